"""``/api/agents``: list and describe agents, generate (JSON) and stream (SSE)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import trio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.agent import AgentChunk, AgentRef
from actors.agent.messages import Generate, StreamGenerate
from actors.server import _turns as turns
from actors.server._agent_wire import (
    GenerateBody,
    chat_messages,
    chunk_json,
    info_json,
    result_json,
)
from actors.server._context import AppContext
from actors.server._http import NotFound, allowed, decode_body, json_response
from actors.server._turns import TurnFailure
from actors.server.routes.tools import tool_json
from actors.tools import ToolRef

__all__ = ["routes"]

_json = msgspec.json.Encoder()


def _agent(ctx: AppContext, agent_id: str) -> AgentRef:
    agent = turns.find_agent(ctx, agent_id)
    if agent is None:
        raise NotFound(f"Agent with id {agent_id} not found")
    return agent


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


def turn_fields(body: GenerateBody) -> dict[str, Any]:
    """The fields of a ``Generate``/``StreamGenerate`` for a request's body."""
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


def _failure(failure: TurnFailure) -> Response:
    """A failed turn in Mastra's error shape (a refused request names ``messages``)."""
    if failure.blame == "request":
        issue = {"field": "messages", "message": failure.message, "path": "$.messages"}
        return json_response({"error": failure.message, "issues": [issue]}, status=400)
    return json_response({"error": failure.message}, status=failure.status)


async def generate(request: Request) -> Response:
    """Run one turn and answer with its result."""
    ctx = AppContext.of(request)
    agent = _agent(ctx, request.path_params["agent_id"])
    body = await decode_body(request, GenerateBody)
    result = await turns.generate(agent, Generate(**turn_fields(body)))
    if isinstance(result, TurnFailure):
        return _failure(result)
    return json_response(result_json(result))


async def stream(request: Request) -> Response:
    """Run one turn and send its chunks as server-sent events as they are produced."""
    ctx = AppContext.of(request)
    agent = _agent(ctx, request.path_params["agent_id"])
    body = await decode_body(request, GenerateBody)
    msg = StreamGenerate(**turn_fields(body))

    def encode(chunk: AgentChunk) -> bytes:
        return b"data: " + _json.encode(chunk_json(chunk, agent.name)) + b"\n\n"

    return turns.sse_response(turns.sse_stream(agent, msg, encode))


def routes() -> list[Route]:
    """The agent routes."""
    return [
        Route("/api/agents", list_agents, methods=["GET"]),
        Route("/api/agents/{agent_id}", get_agent, methods=["GET"]),
        Route("/api/agents/{agent_id}/generate", generate, methods=["POST"]),
        Route("/api/agents/{agent_id}/stream", stream, methods=["POST"]),
    ]
