"""Calling agents from HTTP routes, whatever wire format the route speaks.

The Mastra routes (``/api/agents/...``) and the OpenAI-compatible routes (``/v1/...``) find
agents, run turns and stream chunks the same way; only the encoding of answers and errors
differs, so it is passed in.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from actors.agent import AgentChunk, AgentRef, StructuredOutputError
from actors.agent.messages import Generate, GenerateResult, StreamGenerate
from actors.llm import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ProviderError,
    ProviderTimeout,
    RateLimitedError,
)
from actors.server._context import AppContext
from actors.server._sse import EventStream
from actors.stores import StoreUnavailable
from runtime import ActorCrashed, ActorStopped, AskTimeout

__all__ = [
    "TurnFailure",
    "encoded_chunks",
    "find_agent",
    "generate",
    "sse_response",
    "sse_stream",
]

log = logging.getLogger("actors.server")

_TURN_ERRORS = (
    ProviderError,
    StructuredOutputError,
    StoreUnavailable,
    AskTimeout,
    ActorCrashed,
    ActorStopped,
)
_STREAM_ERRORS = (
    ProviderError,
    StructuredOutputError,
    StoreUnavailable,
    ActorCrashed,
    ActorStopped,
)
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}

Blame = Literal["request", "rate_limit", "timeout", "upstream", "unavailable"]


@dataclass(frozen=True, slots=True)
class TurnFailure:
    """A turn that failed, with the HTTP status that says whose fault it was: 400 when the
    request was refused by the model, 429 rate limited, 504 timed out, 502 another model
    failure, 503 the agent itself failed. Only ``request`` failures are the caller's."""

    status: int
    message: str
    blame: Blame

    @staticmethod
    def of(exc: Exception) -> TurnFailure:
        """Classify the exception a turn raised."""
        message = str(exc)
        if isinstance(exc, (BadRequestError, ContextLengthError, ContentFilteredError)):
            return TurnFailure(400, message, "request")
        if isinstance(exc, RateLimitedError):
            return TurnFailure(429, message, "rate_limit")
        if isinstance(exc, (ProviderTimeout, AskTimeout)):
            return TurnFailure(504, message, "timeout")
        if isinstance(exc, ProviderError):
            return TurnFailure(502, message, "upstream")
        return TurnFailure(503, message, "unavailable")


def find_agent(ctx: AppContext, agent_id: str) -> AgentRef | None:
    """The agent named ``agent_id``, or None."""
    ref = ctx.rt.lookup(agent_id, kind="agent")
    return None if ref is None else AgentRef(ref)


async def generate(agent: AgentRef, msg: Generate) -> GenerateResult | TurnFailure:
    """Run one turn and return its result, or the failure when the turn failed (logged).
    Cancellation cancels the turn."""
    try:
        result: GenerateResult = await agent.ref.ask(msg)
    except _TURN_ERRORS as exc:
        log.warning("generate on %s failed: %r", agent.name, exc, extra={"runId": msg.run_id})
        return TurnFailure.of(exc)
    return result


async def encoded_chunks(
    agent: AgentRef, msg: StreamGenerate, encode: Callable[[AgentChunk], bytes]
) -> AsyncGenerator[bytes, None]:
    """Run one turn through ``stream`` and yield ``encode(chunk)`` for each chunk as it is
    produced (empty encodings are skipped).

    A failed turn has already sent its ``AgentError`` chunk when its error arrives here: the
    error is logged and the generator ends normally. Closing this generator early (the
    client went away) leaves ``stream``, which cancels the turn and with it the model call.
    """
    try:
        async with agent.ref.stream(msg) as chunks:
            async for chunk in chunks:
                data = encode(chunk)
                if data:
                    yield data
    except _STREAM_ERRORS as exc:
        log.warning("stream on %s failed: %r", agent.name, exc, extra={"runId": msg.run_id})


async def sse_stream(
    agent: AgentRef, msg: StreamGenerate, encode: Callable[[AgentChunk], bytes]
) -> AsyncGenerator[bytes, None]:
    """``encoded_chunks`` as server-sent events, then ``data: [DONE]``."""
    async with aclosing(encoded_chunks(agent, msg, encode)) as events:
        async for data in events:
            yield data
    yield b"data: [DONE]\n\n"


def sse_response(events: AsyncGenerator[bytes, None]) -> EventStream:
    """A ``text/event-stream`` response sending ``events`` as they come, uncached; a client
    that goes away closes ``events``."""
    return EventStream(events, media_type="text/event-stream", headers=_SSE_HEADERS)
