"""Provider configuration: one tagged Struct per provider type, decodable from TOML/JSON.

``ProviderConfig`` is the tagged union (``type = "openai_compat" | "anthropic" | "scripted" |
"hash" | "fallback"``). API keys are never part of a config: only the name of the
environment variable that holds them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from actors.llm._retry import RetryPolicy
from actors.llm.messages import ErrorKind

__all__ = [
    "FALLBACK_ON",
    "PROVIDER_CONCURRENCY",
    "AnthropicConfig",
    "FallbackConfig",
    "HashEmbedConfig",
    "OpenAICompatConfig",
    "ProviderConfig",
    "ScriptRule",
    "ScriptedConfig",
    "ScriptedToolCall",
    "ScriptedTurn",
    "Timeouts",
    "VENDORS",
]


PROVIDER_CONCURRENCY = 64
"""How many requests one provider actor (and a fallback list) serves at once."""


class _Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Timeouts(_Config, frozen=True):
    """Seconds to wait: ``connect`` for a connection, ``read`` between two reads of the
    reply, ``total`` for the whole call including retries (None: no total limit)."""

    connect: float = 5.0
    read: float = 120.0
    total: float | None = 600.0


class _Vendor(msgspec.Struct, frozen=True):
    base_url: str
    api_key_env: str | None
    tool_choice: bool = True


VENDORS: dict[str, _Vendor] = {
    "openai": _Vendor("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "deepseek": _Vendor("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "groq": _Vendor("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "ollama": _Vendor("http://localhost:11434/v1", None, tool_choice=False),
}
"""Known OpenAI-compatible vendors: default base URL, key variable and quirks."""

_UNSET = "<vendor default>"


class OpenAICompatConfig(_Config, frozen=True, tag="openai_compat"):
    """An OpenAI-compatible chat/embeddings API (OpenAI, DeepSeek, Groq, Ollama ``/v1``).

    Unset ``base_url`` / ``api_key_env`` / ``tool_choice`` take the ``vendor``'s defaults
    (Ollama: no key and no ``tool_choice`` field). ``stream_usage`` sends
    ``stream_options.include_usage`` so usage arrives in streams. ``max_tokens_field`` names
    the body field for ``max_tokens`` (OpenAI's newer models want ``max_completion_tokens``).
    """

    vendor: str = "openai"
    base_url: str = _UNSET
    api_key_env: str | None = _UNSET
    tool_choice: bool | None = None
    model: str | None = None
    embedding_model: str | None = None
    stream_usage: bool = True
    max_tokens_field: str = "max_tokens"
    embedding_encoding: Literal["float", "base64"] = "base64"
    embedding_batch: int = 256
    max_connections: int = 100
    headers: dict[str, str] = {}
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    record_content: bool = False

    def __post_init__(self) -> None:
        if self.base_url == _UNSET and self.vendor not in VENDORS:
            raise ValueError(f"base_url: required for vendor {self.vendor!r}")
        if self.embedding_batch <= 0:
            raise ValueError("embedding_batch: must be positive")

    @property
    def url(self) -> str:
        """The base URL without a trailing slash."""
        base = VENDORS[self.vendor].base_url if self.base_url == _UNSET else self.base_url
        return base.rstrip("/")

    @property
    def key_env(self) -> str | None:
        """The environment variable holding the API key (None: the vendor takes no key)."""
        if self.api_key_env == _UNSET:
            preset = VENDORS.get(self.vendor)
            return None if preset is None else preset.api_key_env
        return self.api_key_env

    @property
    def sends_tool_choice(self) -> bool:
        """Whether ``tool_choice`` goes into the request body."""
        if self.tool_choice is not None:
            return self.tool_choice
        preset = VENDORS.get(self.vendor)
        return True if preset is None else preset.tool_choice


class AnthropicConfig(_Config, frozen=True, tag="anthropic"):
    """Anthropic's Messages API. ``max_tokens`` is required by the API: requests without
    one get ``default_max_tokens``."""

    base_url: str = "https://api.anthropic.com"
    api_key_env: str | None = "ANTHROPIC_API_KEY"
    version: str = "2023-06-01"
    model: str | None = None
    default_max_tokens: int = 4096
    max_connections: int = 100
    headers: dict[str, str] = {}
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    record_content: bool = False

    @property
    def url(self) -> str:
        """The base URL without a trailing slash."""
        return self.base_url.rstrip("/")


class ScriptedToolCall(_Config, frozen=True):
    """A tool call a scripted turn makes; ``arguments`` is a JSON template (``$name``)."""

    name: str
    arguments: str = "{}"


class ScriptedTurn(_Config, frozen=True):
    """One answer of the scripted model.

    ``text`` is a template: ``$user`` (last user text), ``$tool_result`` (last tool result),
    ``$tool_<key>`` (a key of a JSON-object tool result) and the rule's named regex groups.
    ``structured`` is answered as JSON text when the request asks for structured output.
    ``error`` makes the call fail with that error kind (to test error handling).
    """

    text: str = ""
    tool_calls: list[ScriptedToolCall] = []
    structured: Any = None
    finish_reason: Literal["stop", "length", "content_filter"] | None = None
    error: ErrorKind | None = None


class ScriptRule(_Config, frozen=True):
    """Turns used when ``match`` (a regex searched in the last user text) matches.

    The n-th model call after the last user message answers ``turns[n]``; past the end the
    last turn repeats.
    """

    turns: list[ScriptedTurn]
    match: str | None = None

    def __post_init__(self) -> None:
        if not self.turns:
            raise ValueError("rules[].turns: at least one turn is required")


class ScriptedConfig(_Config, frozen=True, tag="scripted"):
    """The offline scripted model (not a language model): answers follow ``rules``.

    ``builtin = "echo"`` adds the rules of the reference mock: ``add A and B`` calls the
    ``add`` tool and then answers ``The sum is N.``; anything else is ``Echo: <text>``.
    Streams split text by ``chunking`` with ``chunk_delay`` seconds between chunks.
    """

    rules: list[ScriptRule] = []
    builtin: Literal["echo"] | None = "echo"
    model: str = "scripted"
    chunking: Literal["word", "char", "whole"] = "word"
    chunk_delay: float = 0.0


class HashEmbedConfig(_Config, frozen=True, tag="hash"):
    """The offline hashing embedder: deterministic vectors of ``dimension`` floats."""

    dimension: int = 384
    model: str = "hash"

    def __post_init__(self) -> None:
        if self.dimension <= 0:
            raise ValueError("dimension: must be positive")


FALLBACK_ON: tuple[ErrorKind, ...] = (
    "unavailable",
    "rate_limited",
    "timeout",
    "interrupted",
    "authentication",
)
"""The error kinds that make a fallback list try its next model by default."""


class FallbackConfig(_Config, frozen=True, tag="fallback"):
    """A model list tried in order: ``"provider/model"`` entries naming provider actors.

    The next entry is tried when a call fails with one of ``fallback_on`` before any
    content reached the caller.
    """

    models: list[str]
    fallback_on: list[ErrorKind] = msgspec.field(default_factory=lambda: list(FALLBACK_ON))

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("models: at least one model is required")


ProviderConfig = (
    OpenAICompatConfig | AnthropicConfig | ScriptedConfig | HashEmbedConfig | FallbackConfig
)
