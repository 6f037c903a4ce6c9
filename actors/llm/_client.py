"""What every model client offers, and the HTTP chat client the vendors build on.

``ModelClient`` is the pure layer under the provider actor: ``chat`` answers a request,
``stream`` emits ``StreamChunk`` values as the model produces them and returns the assembled
answer, ``embed`` embeds texts. ``HttpChatClient`` adds retries, timeouts and telemetry to a
vendor's wire format (``encode`` / ``decode`` / ``assembler``).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

import trio

from actors.llm._config import Timeouts
from actors.llm._errors import (
    AuthenticationError,
    BadRequestError,
    ProtocolError,
    ProviderError,
    ProviderTimeout,
    StreamInterrupted,
)
from actors.llm._http import HttpTransport
from actors.llm._retry import RetryPolicy, retry_call
from actors.llm._sse import ServerSentEvent, SSEDecoder
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    StreamChunk,
)

T = TypeVar("T")

__all__ = ["Emit", "HttpChatClient", "ModelClient", "StreamAssembler", "api_key_from_env"]

Emit = Callable[[StreamChunk], Awaitable[None]]
"""Where a stream's chunks go; it may wait (backpressure) and raise if the reader left."""

_DRAIN_GRACE = 2.0


class ModelClient(Protocol):
    """A model or embedder behind a provider actor."""

    provider: str

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Answer ``request``; raises ``ProviderError`` on failure."""
        ...

    async def stream(self, request: ChatRequest, emit: Emit) -> ChatResult:
        """Emit chunks, ending with ``Finish`` (or ``StreamError`` before raising)."""
        ...

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Embed the inputs; raises ``ProviderError`` on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections; further calls fail."""
        ...


class StreamAssembler(Protocol):
    """Turns a vendor's stream events into chunks and the final answer."""

    done: bool

    def feed(self, event: ServerSentEvent) -> list[StreamChunk]:
        """Chunks for one event; raises ``ProviderError`` for an error event or bad data."""
        ...

    def result(self) -> ChatResult:
        """The assembled answer (after ``done``)."""
        ...


def api_key_from_env(env: str | None, provider: str) -> str | None:
    """The API key from the environment variable ``env`` (None when the vendor needs none).

    Raises ``AuthenticationError`` naming the variable when it is unset or empty.
    """
    if env is None:
        return None
    key = os.environ.get(env, "")
    if not key:
        raise AuthenticationError(
            f"the environment variable {env} holding the API key is not set", provider=provider
        )
    return key


class HttpChatClient(ABC):
    """Chat over HTTP with retries, a total timeout, telemetry and SSE streaming.

    Subclasses provide ``chat_url``, ``headers()``, ``encode``, ``decode`` and
    ``assembler``.
    """

    chat_url: str

    def __init__(
        self,
        transport: HttpTransport,
        *,
        retry: RetryPolicy,
        timeouts: Timeouts,
        telemetry: GenAITelemetry,
        default_model: str | None,
    ) -> None:
        self.transport = transport
        self.provider = transport.provider
        self.retry = retry
        self.timeouts = timeouts
        self.telemetry = telemetry
        self.default_model = default_model

    # -- vendor hooks ----------------------------------------------------------------------
    @abstractmethod
    def headers(self) -> Mapping[str, str]:
        """Request headers (authentication included); may raise ``AuthenticationError``."""

    @abstractmethod
    def encode(self, request: ChatRequest, model: str, *, stream: bool) -> bytes:
        """The vendor request body."""

    @abstractmethod
    def decode(self, body: bytes, request: ChatRequest) -> ChatResult:
        """The answer from a non-streamed reply body; raises ``ProtocolError`` if malformed."""

    @abstractmethod
    def assembler(self, model: str, request: ChatRequest) -> StreamAssembler:
        """A fresh assembler for one streamed reply."""

    # -- calls -----------------------------------------------------------------------------
    def model_for(self, request: ChatRequest) -> str:
        """The model to call: the request's, else the configured default."""
        model = request.model or self.default_model
        if not model:
            raise BadRequestError(
                "model: the request names no model and the provider has no default",
                provider=self.provider,
            )
        return model

    async def within_total(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` under the total timeout; raises ``ProviderTimeout`` when it passes."""
        total = self.timeouts.total
        if total is None:
            return await call()
        with trio.move_on_after(total):
            return await call()
        raise ProviderTimeout(
            f"no complete answer within the total timeout of {total}s", provider=self.provider
        )

    async def chat(self, request: ChatRequest) -> ChatResult:
        """One non-streamed call with retries.

        Cancellation: the request is abandoned (its connection closed); nothing is retried.
        Failure: the last ``ProviderError`` once retries or the total timeout run out.
        """
        model = self.model_for(request)
        with self.telemetry.operation("chat", model, messages=request.messages) as record:
            body = self.encode(request, model, stream=False)

            async def attempt() -> ChatResult:
                raw = await self.transport.post(self.chat_url, body, self.headers())
                return self.decode(raw, request)

            result = await self.within_total(lambda: retry_call(self.retry, attempt))
            record.chat_result(result)
            self.telemetry.output(record, result)
            return result

    async def stream(self, request: ChatRequest, emit: Emit) -> ChatResult:
        """A streamed call: chunks go to ``emit`` as they arrive, then ``Finish``.

        Retries only while nothing was emitted. A stream that ends before the vendor's
        terminal event raises ``StreamInterrupted``. On failure a ``StreamError`` chunk is
        emitted (unless cancelled) and the error raised. Cancellation closes the connection.
        """
        model = self.model_for(request)
        delivered = False

        async def counting_emit(chunk: StreamChunk) -> None:
            nonlocal delivered
            delivered = True
            await emit(chunk)

        with self.telemetry.operation("chat", model, messages=request.messages) as record:
            body = self.encode(request, model, stream=True)
            try:
                result = await self.within_total(
                    lambda: retry_call(
                        self.retry,
                        lambda: self._stream_once(request, body, model, counting_emit),
                        delivered=lambda: delivered,
                    )
                )
            except ProviderError as exc:
                await emit(exc.to_chunk(delivered=delivered))
                raise
            record.chat_result(result)
            self.telemetry.output(record, result)
        await emit(Finish(result=result))
        return result

    async def _stream_once(
        self, request: ChatRequest, body: bytes, model: str, emit: Emit
    ) -> ChatResult:
        assembler = self.assembler(model, request)
        decoder = SSEDecoder()
        async with self.transport.stream(self.chat_url, body, self.headers()) as pieces:
            async for piece in pieces:
                for event in _decode(decoder, piece, self.provider):
                    for chunk in assembler.feed(event):
                        await emit(chunk)
                    if assembler.done:
                        await _drain(pieces)
                        return assembler.result()
        raise StreamInterrupted(
            "the stream ended before its terminal event", provider=self.provider
        )


def _decode(decoder: SSEDecoder, piece: bytes, provider: str) -> list[ServerSentEvent]:
    try:
        return decoder.feed(piece)
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"the stream is not UTF-8: {exc}", provider=provider) from None


async def _drain(pieces: AsyncIterator[bytes]) -> None:
    """Read what follows the terminal event so the connection can be reused; on an error or
    after a short grace give up (the connection is then closed, the answer is complete)."""
    with trio.move_on_after(_DRAIN_GRACE):
        try:
            async for _ in pieces:
                pass
        except ProviderError:
            return
