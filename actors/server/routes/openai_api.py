"""``/v1``: the OpenAI-compatible face of the agents, for OpenAI's clients and SDKs.

- ``POST /v1/chat/completions``: ``model`` is an agent id; one agent turn per request,
  answered as a ``chat.completion`` or, with ``"stream": true``, as ``chat.completion.chunk``
  server-sent events ending with ``data: [DONE]``.
- ``GET /v1/models`` and ``GET /v1/models/{model}``: one model per agent.

The agent uses its own tools; ``tools`` sent by the client are accepted and not offered to
the model (agents have no client-side tools), while ``tool_choice`` applies to the agent's
tools. Memory: the request's ``user`` names the resource and the ``x-mastra-thread-id``
header the thread; with both, the agent reads and extends that thread, so the client sends
only the new messages. ``x-mastra-run-id`` names the turn, so a retried request with memory
stores its messages once. Errors use OpenAI's ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.agent import AgentRef
from actors.agent.messages import Generate, MemoryTarget, StreamGenerate
from actors.llm.messages import ForceTool
from actors.server import _turns as turns
from actors.server._context import AppContext
from actors.server._http import allowed, decode_body, json_response
from actors.server._openai_out import ChunkEncoder, completion_json, error_json, model_json
from actors.server._openai_wire import (
    CompletionBody,
    bad_field,
    chat_messages,
    structured_output,
    tool_choice,
)
from actors.server._turns import TurnFailure

__all__ = ["RUN_HEADER", "THREAD_HEADER", "openai_error", "routes"]

THREAD_HEADER = "x-mastra-thread-id"
RUN_HEADER = "x-mastra-run-id"


def openai_error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> Response:
    """An error response in OpenAI's shape."""
    return json_response(error_json(status, message, param=param, code=code), status=status)


def _model_missing(model: str) -> Response:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return openai_error(404, message, param="model", code="model_not_found")


def _memory(request: Request, body: CompletionBody) -> MemoryTarget | None:
    thread = request.headers.get(THREAD_HEADER)
    if not thread:
        return None
    if not body.user:
        raise bad_field("user", f"the resource id is required with the {THREAD_HEADER} header")
    return MemoryTarget(thread=thread, resource=body.user)


async def _fields(request: Request, agent: AgentRef, body: CompletionBody) -> dict[str, Any]:
    if body.n != 1:
        raise bad_field("n", "only one choice (n = 1) is supported")
    choice = tool_choice(body)
    if isinstance(choice, ForceTool) and choice.name not in (await agent.info()).tools:
        raise bad_field("tool_choice.function.name", f"the agent has no tool {choice.name!r}")
    return {
        "messages": chat_messages(body),
        "run_id": request.headers.get(RUN_HEADER) or uuid.uuid4().hex,
        "memory": _memory(request, body),
        "structured_output": structured_output(body),
        "tool_choice": choice,
        "temperature": body.temperature,
        "max_tokens": body.token_limit(),
    }


async def chat_completions(request: Request) -> Response:
    """Run one agent turn for an OpenAI chat-completion request."""
    ctx = AppContext.of(request)
    body = await decode_body(request, CompletionBody)
    agent = turns.find_agent(ctx, body.model)
    if agent is None:
        return _model_missing(body.model)
    if not allowed(request, "agents", body.model):
        message = f"Forbidden: this token may not use agent {body.model}"
        return openai_error(403, message, param="model")
    fields = await _fields(request, agent, body)
    created = int(time.time())
    if body.stream:
        msg = StreamGenerate(**fields)
        encode = ChunkEncoder(msg.run_id, body.model, created, include_usage=body.include_usage())
        return turns.sse_response(turns.sse_stream(agent, msg, encode))
    result = await turns.generate(agent, Generate(**fields))
    if isinstance(result, TurnFailure):
        param = "messages" if result.blame == "request" else None
        return openai_error(result.status, result.message, param=param, code=result.blame)
    return json_response(completion_json(result, body.model, created))


async def list_models(request: Request) -> Response:
    """Every agent this caller may use, as OpenAI models."""
    ctx = AppContext.of(request)
    names = sorted(name for name in ctx.rt.actors("agent") if allowed(request, "agents", name))
    data = [model_json(name, ctx.started) for name in names]
    return json_response({"object": "list", "data": data})


async def get_model(request: Request) -> Response:
    """One agent as an OpenAI model."""
    ctx = AppContext.of(request)
    model = request.path_params["model"]
    if turns.find_agent(ctx, model) is None or not allowed(request, "agents", model):
        return _model_missing(model)
    return json_response(model_json(model, ctx.started))


def routes() -> list[Route]:
    """The OpenAI-compatible routes."""
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
    ]
