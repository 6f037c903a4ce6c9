"""Model fallback lists: try ``provider/model`` targets in order, switching vendor when one
is unavailable, and record which one answered.

```python
router = ModelRouter(rt.lookup, ["deepseek/deepseek-chat", "openai/gpt-4o-mini"])
result = await router.chat(request)       # result.provider == "openai" if DeepSeek was down
result.fallbacks                          # ["deepseek/deepseek-chat"]
```

A target is skipped when its call fails with an error kind in ``fallback_on`` before any
content reached the caller; any other error, or a failure after content was delivered,
is raised. ``FallbackProvider`` is the same as a provider actor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import msgspec

from actors.llm._client import Emit
from actors.llm._config import FALLBACK_ON, PROVIDER_CONCURRENCY, FallbackConfig
from actors.llm._errors import BadRequestError, ProtocolError, ProviderError, UnavailableError
from actors.llm.messages import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    ErrorKind,
    Finish,
    StreamError,
)
from runtime import Actor, ActorRef

__all__ = ["FallbackProvider", "ModelRouter", "ModelTarget", "parse_model"]

Lookup = Callable[..., ActorRef | None]


class ModelTarget(msgspec.Struct, frozen=True):
    """A provider actor name and the model to ask it for (None: its default)."""

    provider: str
    model: str | None = None

    def __str__(self) -> str:
        return self.provider if self.model is None else f"{self.provider}/{self.model}"


def parse_model(spec: str) -> ModelTarget:
    """``"deepseek/deepseek-chat"`` -> provider ``deepseek``, model ``deepseek-chat``.

    Only the first ``/`` separates (model ids may contain more); ``"scripted"`` names a
    provider with its default model. Raises ``ValueError`` for an empty provider.
    """
    provider, _, model = spec.partition("/")
    if not provider:
        raise ValueError(f"model {spec!r}: expected 'provider/model'")
    return ModelTarget(provider, model or None)


class ModelRouter:
    """Calls provider actors for a list of targets, falling back in order."""

    def __init__(
        self,
        lookup: Lookup,
        models: Iterable[str | ModelTarget],
        fallback_on: Iterable[ErrorKind] = FALLBACK_ON,
    ) -> None:
        self.lookup = lookup
        self.targets = [m if isinstance(m, ModelTarget) else parse_model(m) for m in models]
        if not self.targets:
            raise ValueError("models: at least one model is required")
        self.fallback_on = frozenset(fallback_on)

    def _ref(self, target: ModelTarget) -> ActorRef:
        ref = self.lookup(target.provider, kind="provider")
        if ref is None:
            raise UnavailableError(f"no provider actor named {target.provider!r}")
        return ref

    def _switch(self, exc: ProviderError, index: int) -> bool:
        return exc.kind in self.fallback_on and index < len(self.targets) - 1

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Ask each target in turn; the answer names who answered and who failed before.

        Failure: the error of the last target tried. Cancellation: stops the current ask.
        """
        failed: list[str] = []
        for index, target in enumerate(self.targets):
            try:
                result: ChatResult = await self._ref(target).ask(_with_model(request, target))
            except ProviderError as exc:
                if not self._switch(exc, index):
                    raise
                failed.append(str(target))
                continue
            return msgspec.structs.replace(result, fallbacks=failed)
        raise AssertionError("unreachable: the last target raises")

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Embed with the first target that is available."""
        for index, target in enumerate(self.targets):
            try:
                result: EmbeddingResult = await self._ref(target).ask(_with_model(request, target))
            except ProviderError as exc:
                if not self._switch(exc, index):
                    raise
                continue
            return result
        raise AssertionError("unreachable: the last target raises")

    async def stream(self, request: ChatRequest, emit: Emit) -> ChatResult:
        """Stream from each target in turn until one succeeds.

        Chunks are forwarded as they arrive; a ``StreamError`` of a target that will be
        skipped is not forwarded. Once a chunk was forwarded, no other target is tried.
        """
        failed: list[str] = []
        for index, target in enumerate(self.targets):
            delivered = False
            held: StreamError | None = None
            try:
                ref = self._ref(target)
                async with ref.stream(_with_model(request, target)) as chunks:
                    async for chunk in chunks:
                        if isinstance(chunk, StreamError):
                            held = chunk
                        elif isinstance(chunk, Finish):
                            result = msgspec.structs.replace(chunk.result, fallbacks=failed)
                            await emit(Finish(result=result))
                            return result
                        else:
                            delivered = True
                            await emit(chunk)
            except ProviderError as exc:
                if delivered or not self._switch(exc, index):
                    await emit(held or exc.to_chunk(delivered=delivered))
                    raise
                failed.append(str(target))
                continue
            raise ProtocolError(f"{target}: the stream ended without a Finish chunk")
        raise AssertionError("unreachable: the last target raises")


def _with_model(request: Any, target: ModelTarget) -> Any:
    if target.model is None:
        return request
    return msgspec.structs.replace(request, model=target.model)


class FallbackProvider(Actor):
    """A provider actor that serves requests through a ``ModelRouter`` over other providers."""

    concurrency: ClassVar[int] = PROVIDER_CONCURRENCY
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (ProviderError,)

    def __init__(self, config: FallbackConfig) -> None:
        self.config = config
        self.router: ModelRouter | None = None

    async def on_start(self) -> None:
        """Resolve the targets lazily through the runtime's registry."""
        self.router = ModelRouter(self.ctx.lookup, self.config.models, self.config.fallback_on)

    async def receive(self, msg: Any) -> ChatResult | EmbeddingResult | None:
        """Like ``ProviderActor.receive``, across the fallback list."""
        router = self.router
        assert router is not None
        match msg:
            case ChatRequest():
                if self.ctx.is_streaming:
                    await router.stream(msg, self.ctx.reply_stream.send)
                    return None
                return await router.chat(msg)
            case EmbedRequest():
                return await router.embed(msg)
            case _:
                raise BadRequestError(f"a provider does not handle {type(msg).__name__}")
