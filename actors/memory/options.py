"""Memory options of an agent: recent messages, semantic recall, working memory, retention."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = ["Memory", "Retention", "SemanticRecall", "WorkingMemory"]

Scope = Literal["thread", "resource"]

DEFAULT_TEMPLATE = "# User\n- Name:\n- Preferences:\n"


class SemanticRecall(msgspec.Struct, frozen=True, kw_only=True):
    """Recall the ``top_k`` stored messages closest in meaning to the new user message, each
    with ``message_range`` neighbours, from this thread or from all the resource's threads.
    """

    top_k: int = 3
    message_range: int = 1
    scope: Scope = "thread"

    def __post_init__(self) -> None:
        if self.top_k <= 0:
            raise ValueError("semantic_recall.top_k: must be positive")
        if self.message_range < 0:
            raise ValueError("semantic_recall.message_range: must not be negative")


class WorkingMemory(msgspec.Struct, frozen=True, kw_only=True):
    """A persistent note the model keeps up to date through the ``updateWorkingMemory`` tool.

    ``template`` (markdown) or ``schema`` (a JSON Schema; the note is then JSON) shapes it;
    ``scope`` decides whether it belongs to the thread or to the resource (the user).
    """

    template: str | None = None
    schema: dict[str, Any] | None = None
    scope: Scope = "resource"

    def __post_init__(self) -> None:
        if self.template is not None and self.schema is not None:
            raise ValueError("working_memory: give `template` or `schema`, not both")

    def initial(self) -> str:
        """What the note holds before the model first updates it."""
        if self.schema is not None:
            return msgspec.json.encode(self.schema).decode()
        return self.template if self.template is not None else DEFAULT_TEMPLATE


class Retention(msgspec.Struct, frozen=True, kw_only=True):
    """Prune a resource's messages after each turn: keep at most ``keep_last`` (least
    important first out), drop those older than ``max_age`` seconds; messages with importance
    at least ``protect_importance`` are kept.
    """

    keep_last: int | None = None
    max_age: float | None = None
    protect_importance: float | None = None

    def __post_init__(self) -> None:
        if self.keep_last is not None and self.keep_last < 0:
            raise ValueError("retention.keep_last: must not be negative")
        if self.max_age is not None and self.max_age <= 0:
            raise ValueError("retention.max_age: must be positive")


class Memory(msgspec.Struct, frozen=True, kw_only=True):
    """How an agent remembers. ``store`` names the SQLite store actor, ``vector`` the vector
    store actor and ``embedder`` the embedding provider (``provider/model``).
    """

    last_messages: int | None = 20
    semantic_recall: SemanticRecall | None = None
    working_memory: WorkingMemory | None = None
    retention: Retention | None = None
    store: str = "store"
    vector: str = "default"
    embedder: str = "hash"
    index_name: str = "memory_messages"

    def __post_init__(self) -> None:
        if self.last_messages is not None and self.last_messages < 0:
            raise ValueError("memory.last_messages: must not be negative")
