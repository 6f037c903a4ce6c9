"""``MemoryClient``: what an agent asks the store, vector and embedder actors for each turn."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import trio

from actors.llm import ModelRouter
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    EmbedRequest,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from actors.memory.options import Memory, Retention
from actors.stores import UnknownIndex
from actors.stores.messages import (
    DeleteMessages,
    EnsureThread,
    GetMessagesById,
    GetWorkingMemory,
    LoadThread,
    MessageRecord,
    NewMessage,
    PruneMessages,
    SaveMessages,
    SetWorkingMemory,
    Transaction,
)
from actors.stores.vector_messages import CreateIndex, DeleteVectors, Query, Upsert
from runtime import ActorRef

__all__ = ["MemoryClient", "MemoryContext", "MemoryUnavailable", "message_id", "role_of"]

Lookup = Callable[..., ActorRef | None]

TEXT_IMPORTANCE = 0.5
TOOL_IMPORTANCE = 0.2


class MemoryUnavailable(Exception):
    """A store, vector store or embedder actor that memory needs is not running."""


class MemoryContext(msgspec.Struct, frozen=True, kw_only=True):
    """What memory adds to a turn: recent history, recalled messages, the working memory."""

    history: list[ChatMessage] = []
    recalled: list[str] = []
    working_memory: str | None = None


def message_id(run_id: str, index: int) -> str:
    """The id of the ``index``-th message of the turn ``run_id`` (stable across retries)."""
    return f"{run_id}-{index:03d}"


def role_of(message: ChatMessage) -> str:
    """The ``role`` tag of a chat message (``user``, ``assistant``, ``system``, ``tool``)."""
    return str(message.__struct_config__.tag)


def _text(message: ChatMessage) -> str:
    match message:
        case UserMessage():
            return message.text()
        case AssistantMessage() | SystemMessage():
            return message.content
        case ToolMessage():
            return ""


class _Messages(msgspec.Struct):
    """Stored contents to chat messages in one conversion: msgspec caches a Struct's type
    information, where converting to the bare union rebuilds it on every call (~10x)."""

    messages: list[ChatMessage]


def _from_records(records: Sequence[MessageRecord]) -> list[ChatMessage]:
    """The chat messages stored in ``records``; raises ``msgspec.ValidationError`` naming
    the bad message's index for stored content that is no chat message."""
    if not records:
        return []
    return msgspec.convert({"messages": [r.content for r in records]}, _Messages).messages


def _trim(history: list[ChatMessage]) -> list[ChatMessage]:
    """Drop leading messages until a user message, so no tool result lacks its call."""
    for index, message in enumerate(history):
        if isinstance(message, UserMessage):
            return history[index:]
    return []


class MemoryClient:
    """Loads and saves one agent's conversation memory through the store actors.

    Every method raises ``MemoryUnavailable`` when an actor it needs is not running, and the
    store's ``StoreError`` for a bad request. Cancellation abandons the ask in flight; a save
    that was already sent may still commit (saving the same turn again is idempotent).
    """

    def __init__(self, options: Memory, lookup: Lookup) -> None:
        self.options = options
        self.lookup = lookup
        self.embedder = ModelRouter(lookup, [options.embedder])
        self._index_ready = False

    def _actor(self, name: str) -> ActorRef:
        ref = self.lookup(name, kind="store")
        if ref is None:
            raise MemoryUnavailable(f"memory: no store actor named {name!r}")
        return ref

    @property
    def store(self) -> ActorRef:
        """The SQLite store actor."""
        return self._actor(self.options.store)

    async def load(self, thread: str, resource: str, query: str) -> MemoryContext:
        """History, recalled messages and working memory for a new turn that says ``query``.

        The thread check and the history are one request, answered from the store's memory
        when it can; working memory is read alongside.
        """
        records: list[MessageRecord] = []
        working: list[str | None] = [None]

        async def history() -> None:
            last = self.options.last_messages
            if last == 0:
                await self.store.ask(EnsureThread(id=thread, resource_id=resource))
            else:
                load = LoadThread(thread_id=thread, resource_id=resource, last=last)
                records.extend(await self.store.ask(load))

        async def note() -> None:
            working[0] = await self.working_memory(thread, resource)

        if self.options.working_memory is None:
            await history()
        else:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(history)
                nursery.start_soon(note)
        recalled: list[str] = []
        if self.options.semantic_recall is not None and query:
            recalled = await self.recall(thread, resource, query, {r.id for r in records})
        return MemoryContext(
            history=_trim(_from_records(records)),
            recalled=recalled,
            working_memory=working[0],
        )

    async def working_memory(self, thread: str, resource: str) -> str | None:
        """The current working memory (its initial form when never written), or None."""
        options = self.options.working_memory
        if options is None:
            return None
        owner = thread if options.scope == "thread" else resource
        text: str | None = await self.store.ask(GetWorkingMemory(scope=options.scope, id=owner))
        return options.initial() if text is None else text

    async def set_working_memory(self, thread: str, resource: str, text: str) -> None:
        """Replace the working memory of the thread or resource (per the options' scope).

        Raises ``ValueError`` when working memory is off or, with a schema, ``text`` is not
        JSON; the store's ``NotFound`` for a thread-scoped note of a missing thread.
        """
        options = self.options.working_memory
        if options is None:
            raise ValueError("working_memory: not enabled for this agent")
        if options.schema is not None:
            try:
                msgspec.json.decode(text)
            except msgspec.DecodeError as exc:
                raise ValueError(f"working memory must be JSON for its schema: {exc}") from None
        owner = thread if options.scope == "thread" else resource
        await self.store.ask(SetWorkingMemory(scope=options.scope, id=owner, working_memory=text))

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        result = await self.embedder.embed(EmbedRequest(inputs=texts))
        return result.vectors

    async def recall(self, thread: str, resource: str, query: str, seen: set[str]) -> list[str]:
        """Texts of stored messages closest in meaning to ``query`` (with neighbours),
        oldest first, leaving out the ids in ``seen``."""
        recall = self.options.semantic_recall
        assert recall is not None
        (vector,) = await self._embed([query])
        where = {"thread_id": {"$eq": thread}}
        if recall.scope == "resource":
            where = {"resource_id": {"$eq": resource}}
        request = Query(
            index_name=self.options.index_name,
            query_vector=vector,
            top_k=recall.top_k + len(seen),
            filter=where,
        )
        try:
            hits = await self._actor(self.options.vector).ask(request)
        except UnknownIndex:
            return []
        ids = [hit.id for hit in hits if hit.id not in seen][: recall.top_k]
        if not ids:
            return []
        span = recall.message_range
        records: list[MessageRecord] = await self.store.ask(
            GetMessagesById(ids=ids, before=span, after=span)
        )
        lines = []
        for record, message in zip(records, _from_records(records), strict=True):
            text = _text(message) if record.id not in seen else ""
            if text:
                lines.append(f"{record.role}: {text}")
        return list(dict.fromkeys(lines))

    async def save_turn(
        self, thread: str, resource: str, run_id: str, messages: Sequence[ChatMessage]
    ) -> list[str]:
        """Append the turn's messages under ids derived from ``run_id`` (saving the same turn
        again updates them, never duplicates), applying retention in the same commit; then
        index them (vectors of messages retention deleted are deleted after the indexing)."""
        new = _new_messages(thread, resource, run_id, messages)
        save = SaveMessages(messages=new)
        deleted: list[str] = []
        if self.options.retention is None:
            await self.store.ask(save)
        else:  # one request and one commit for the messages and the retention they trigger
            prune = _prune_request(resource, self.options.retention)
            _, pruned = await self.store.ask(Transaction(ops=[save, prune]))
            deleted = pruned.ids
        if self.options.semantic_recall is not None:
            await self._index(new, messages)
            if deleted and self._index_ready:
                vector = self._actor(self.options.vector)
                await vector.ask(DeleteVectors(index_name=self.options.index_name, ids=deleted))
        return [m.id for m in new]

    async def _index(self, new: list[NewMessage], messages: Sequence[ChatMessage]) -> None:
        pairs = [(n, _text(m)) for n, m in zip(new, messages, strict=True) if _text(m)]
        if not pairs:
            return
        vectors = await self._embed([text for _, text in pairs])
        vector = self._actor(self.options.vector)
        if not self._index_ready:
            await vector.ask(
                CreateIndex(index_name=self.options.index_name, dimension=len(vectors[0]))
            )
            self._index_ready = True
        metadata: list[dict[str, Any]] = [
            {"thread_id": n.thread_id, "resource_id": n.resource_id, "role": n.role}
            for n, _ in pairs
        ]
        await vector.ask(
            Upsert(
                index_name=self.options.index_name,
                vectors=vectors,
                ids=[n.id for n, _ in pairs],
                metadata=metadata,
            )
        )

    async def forget(self, ids: list[str]) -> None:
        """Delete stored messages by id (used to drop a turn that must not be kept)."""
        await self.store.ask(DeleteMessages(ids=ids))


def _new_messages(
    thread: str, resource: str, run_id: str, messages: Sequence[ChatMessage]
) -> list[NewMessage]:
    now = time.time()
    return [
        NewMessage(
            id=message_id(run_id, index),
            thread_id=thread,
            resource_id=resource,
            role=role_of(message),
            content=msgspec.to_builtins(message),
            importance=TOOL_IMPORTANCE if _tool_traffic(message) else TEXT_IMPORTANCE,
            created_at=now,
        )
        for index, message in enumerate(messages)
    ]


def _prune_request(resource: str, retention: Retention) -> PruneMessages:
    older = None if retention.max_age is None else time.time() - retention.max_age
    return PruneMessages(
        resource_id=resource,
        keep_last=retention.keep_last,
        older_than=older,
        protect_importance=retention.protect_importance,
    )


def _tool_traffic(message: ChatMessage) -> bool:
    return isinstance(message, ToolMessage) or (
        isinstance(message, AssistantMessage) and bool(message.tool_calls)
    )
