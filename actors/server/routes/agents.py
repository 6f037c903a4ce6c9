"""``/api/agents``: list and describe agents, generate (JSON) and stream (SSE)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
import trio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.agent import AgentRef, StructuredOutputError
from actors.agent.messages import Generate, GenerateResult, StreamGenerate
from actors.llm import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ProviderError,
    ProviderTimeout,
    RateLimitedError,
)
from actors.server._agent_wire import (
    GenerateBody,
    chat_messages,
    chunk_json,
    info_json,
    result_json,
)
from actors.server._context import AppContext
from actors.server._http import NotFound, allowed, decode_body, json_response
from actors.server._sse import EventStream
from actors.server.routes.tools import tool_json
from actors.tools import ToolRef
from runtime import ActorCrashed, ActorStopped, AskTimeout

__all__ = ["routes"]

log = logging.getLogger("actors.server")
_json = msgspec.json.Encoder()
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _agent(ctx: AppContext, agent_id: str) -> AgentRef:
    ref = ctx.rt.lookup(agent_id, kind="agent")
    if ref is None:
        raise NotFound(f"Agent with id {agent_id} not found")
    return AgentRef(ref)


async def _agent_json(ctx: AppContext, agent: AgentRef) -> dict[str, Any]:
    info = await agent.info()
    tools: dict[str, Any] = {}
    for name in info.tools:
        ref = ctx.rt.lookup(name, kind="tool")
        if ref is not None:
            tools[name] = tool_json(await ToolRef(ref).info())
    return info_json(info, tools)


async def list_agents(request: Request) -> Response:
    """Every agent, keyed by id."""
    ctx = AppContext.of(request)
    agents: dict[str, Any] = {}

    async def describe(agent: AgentRef) -> None:
        agents[agent.name] = await _agent_json(ctx, agent)

    async with trio.open_nursery() as nursery:
        for name, ref in ctx.rt.actors("agent").items():
            if allowed(request, "agents", name):
                nursery.start_soon(describe, AgentRef(ref))
    return json_response(dict(sorted(agents.items())))


async def get_agent(request: Request) -> Response:
    """One agent."""
    ctx = AppContext.of(request)
    agent = _agent(ctx, request.path_params["agent_id"])
    return json_response(await _agent_json(ctx, agent))


def _fields(body: GenerateBody) -> dict[str, Any]:
    return {
        "messages": chat_messages(body),
        "run_id": body.runId or str(uuid.uuid4()),
        "memory": body.memory_target(),
        "max_steps": body.maxSteps,
        "structured_output": body.structured(),
        "temperature": body.temperature,
        "max_tokens": body.maxTokens,
        "request_context": body.requestContext,
    }


def _failure(exc: Exception) -> Response:
    """A turn that failed: the status says whose fault it was (5xx only for real faults)."""
    if isinstance(exc, (BadRequestError, ContextLengthError, ContentFilteredError)):
        issue = {"field": "messages", "message": str(exc), "path": "$.messages"}
        return json_response({"error": str(exc), "issues": [issue]}, status=400)
    if isinstance(exc, RateLimitedError):
        return json_response({"error": str(exc)}, status=429)
    if isinstance(exc, (ProviderTimeout, AskTimeout)):
        return json_response({"error": str(exc)}, status=504)
    return json_response({"error": str(exc)}, status=502 if isinstance(exc, ProviderError) else 503)


async def generate(request: Request) -> Response:
    """Run one turn and answer with its result."""
    ctx = AppContext.of(request)
    agent = _agent(ctx, request.path_params["agent_id"])
    body = await decode_body(request, GenerateBody)
    try:
        result: GenerateResult = await agent.ref.ask(Generate(**_fields(body)))
    except (ProviderError, StructuredOutputError, AskTimeout, ActorCrashed, ActorStopped) as exc:
        log.warning("generate on %s failed: %r", agent.name, exc)
        return _failure(exc)
    return json_response(result_json(result))


async def _events(agent: AgentRef, msg: StreamGenerate) -> AsyncGenerator[bytes, None]:
    # Leaving this generator (the client went away) leaves ref.stream, which cancels the
    # turn and with it the model call.
    try:
        async with agent.ref.stream(msg) as chunks:
            async for chunk in chunks:
                yield b"data: " + _json.encode(chunk_json(chunk, agent.name)) + b"\n\n"
    except (ProviderError, StructuredOutputError, ActorCrashed, ActorStopped) as exc:
        log.warning("stream on %s failed: %r", agent.name, exc)  # the error chunk was sent
    yield b"data: [DONE]\n\n"


async def stream(request: Request) -> Response:
    """Run one turn and send its chunks as server-sent events as they are produced."""
    ctx = AppContext.of(request)
    agent = _agent(ctx, request.path_params["agent_id"])
    body = await decode_body(request, GenerateBody)
    msg = StreamGenerate(**_fields(body))
    return EventStream(_events(agent, msg), media_type="text/event-stream", headers=_SSE_HEADERS)


def routes() -> list[Route]:
    """The agent routes."""
    return [
        Route("/api/agents", list_agents, methods=["GET"]),
        Route("/api/agents/{agent_id}", get_agent, methods=["GET"]),
        Route("/api/agents/{agent_id}/generate", generate, methods=["POST"]),
        Route("/api/agents/{agent_id}/stream", stream, methods=["POST"]),
    ]
