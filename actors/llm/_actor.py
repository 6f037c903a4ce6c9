"""The provider actor: one per configured provider, registered under kind ``"provider"``.

```python
config = OpenAICompatConfig(vendor="deepseek", model="deepseek-chat")
ref = await spawn_provider(rt, "deepseek", config)
result = await ref.ask(ChatRequest(messages=[UserMessage(content="hi")]))     # ChatResult
async with ref.stream(request) as chunks:                                      # StreamChunk ...
    async for chunk in chunks: ...
vectors = await ref.ask(EmbedRequest(inputs=["a", "b"]))                       # EmbeddingResult
```

``ProviderError`` values are expected errors: they reach the asker as they are and do not
restart the actor. Many requests are served at once over one pooled HTTP client.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, ClassVar

import msgspec

from actors.llm._client import ModelClient
from actors.llm._config import (
    PROVIDER_CONCURRENCY,
    AnthropicConfig,
    FallbackConfig,
    HashEmbedConfig,
    OpenAICompatConfig,
    ProviderConfig,
    ScriptedConfig,
)
from actors.llm._errors import BadRequestError, ProtocolError, ProviderError, error_for_kind
from actors.llm._http import make_http_client
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    StreamError,
)
from runtime import Actor, ActorRef, ConfigError, Spawner

__all__ = [
    "ProviderActor",
    "build_client",
    "collect_stream",
    "spawn_provider",
]


def build_client(config: ProviderConfig, telemetry: GenAITelemetry) -> ModelClient:
    """The ``ModelClient`` for ``config`` (an HTTP client is created for vendor APIs)."""
    from actors.llm.anthropic import AnthropicClient
    from actors.llm.hashembed import HashEmbedder
    from actors.llm.openai_compat import OpenAICompatClient
    from actors.llm.scripted import ScriptedModel

    match config:
        case OpenAICompatConfig():
            http = make_http_client(config.timeouts, config.max_connections)
            return OpenAICompatClient(config, http, telemetry)
        case AnthropicConfig():
            http = make_http_client(config.timeouts, config.max_connections)
            return AnthropicClient(config, http, telemetry)
        case ScriptedConfig():
            return ScriptedModel(config, telemetry)
        case HashEmbedConfig():
            return HashEmbedder(config, telemetry)
        case FallbackConfig():
            raise TypeError("a fallback list is served by FallbackProvider, not a client")


def _provider_name(config: ProviderConfig) -> str:
    match config:
        case OpenAICompatConfig():
            return config.vendor
        case AnthropicConfig():
            return "anthropic"
        case ScriptedConfig():
            return "scripted"
        case HashEmbedConfig():
            return "hash"
        case FallbackConfig():
            return "fallback"


def _base_url(config: ProviderConfig) -> str | None:
    return config.url if isinstance(config, OpenAICompatConfig | AnthropicConfig) else None


class ProviderActor(Actor):
    """Serves ``ChatRequest`` (ask or stream) and ``EmbedRequest`` for one provider.

    ``on_start`` builds the client (and its pooled HTTP client); ``on_stop`` closes it,
    which closes open connections. A cancelled stream (the reader left) cancels the vendor
    call and closes its connection.
    """

    concurrency: ClassVar[int] = PROVIDER_CONCURRENCY
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (ProviderError,)

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.client: ModelClient | None = None

    async def on_start(self) -> None:
        """Create the model client with the runtime's tracer and meter."""
        record = getattr(self.config, "record_content", False)
        telemetry = GenAITelemetry(
            _provider_name(self.config),
            tracer=self.ctx.tracer,
            meter=self.ctx.meter,
            record_content=record or self.ctx.runtime.config.telemetry.record_content,
            base_url=_base_url(self.config),
        )
        self.client = build_client(self.config, telemetry)

    async def on_stop(self) -> None:
        """Close the client's connections."""
        if self.client is not None:
            await self.client.aclose()

    async def receive(self, msg: Any) -> ChatResult | EmbeddingResult | None:
        """Answer a chat (or stream its chunks) or an embedding request.

        Failure: a ``ProviderError`` reaches the caller (for streams after a ``StreamError``
        chunk); an unknown message type is a ``BadRequestError``.
        """
        client = self.client
        assert client is not None
        match msg:
            case ChatRequest():
                if self.ctx.is_streaming:
                    await client.stream(msg, self.ctx.reply_stream.send)
                    return None
                return await client.chat(msg)
            case EmbedRequest():
                return await client.embed(msg)
            case _:
                raise BadRequestError(
                    f"a provider does not handle {type(msg).__name__}", provider=client.provider
                )


async def spawn_provider(
    spawner: Spawner, name: str, config: ProviderConfig, **options: Any
) -> ActorRef:
    """Spawn the actor for ``config`` as ``name`` under kind ``"provider"``.

    A ``FallbackConfig`` spawns a ``FallbackProvider`` over the named provider actors.
    """
    from actors.llm.fallback import FallbackProvider

    factory = FallbackProvider if isinstance(config, FallbackConfig) else ProviderActor
    ref: ActorRef = await spawner.spawn(factory, config, name=name, kind="provider", **options)
    return ref


async def collect_stream(chunks: AsyncIterable[Any]) -> ChatResult:
    """Read a provider stream to its ``Finish`` and return the answer.

    Raises the typed ``ProviderError`` of a ``StreamError`` chunk, and ``ProtocolError`` if
    the stream ended without ``Finish``.
    """
    async for chunk in chunks:
        if isinstance(chunk, Finish):
            return chunk.result
        if isinstance(chunk, StreamError):
            raise error_for_kind(
                chunk.kind, chunk.message, provider=chunk.provider, status=chunk.status
            )
    raise ProtocolError("the stream ended without a Finish chunk")


def configured_provider(**options: Any) -> ProviderActor:
    """A ``ProviderActor`` from configuration ``options`` (a ``ProviderConfig`` as a table,
    selected by its ``type``), for ``[[actors]]`` entries of a TOML config.

    Raises ``ConfigError`` naming the bad option.
    """
    try:
        config: ProviderConfig = msgspec.convert(options, ProviderConfig, strict=False)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"provider options: {exc}") from None
    return ProviderActor(config)


configured_provider.concurrency = PROVIDER_CONCURRENCY  # type: ignore[attr-defined]
