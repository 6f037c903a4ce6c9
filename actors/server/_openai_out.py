"""Agent turns as OpenAI chat-completion answers: ``chat.completion`` objects, streamed
``chat.completion.chunk`` events, ``model`` objects and ``{"error": {...}}`` bodies.

An agent runs its own tools during the turn. The answer's assistant message carries the
final text and, as ``tool_calls``, every call the agent made (already run: a client has
nothing to execute); ``finish_reason`` is the final model call's.
"""

from __future__ import annotations

from typing import Any

import msgspec

from actors.agent.messages import (
    AgentChunk,
    AgentError,
    AgentFinish,
    AgentStart,
    GenerateResult,
    TextStreamDelta,
    ToolCallChunk,
    ToolCallRecord,
)
from actors.llm.messages import FinishReason, Usage

__all__ = ["ChunkEncoder", "completion_json", "error_json", "model_json"]

_json = msgspec.json.Encoder()
_FINISH: dict[FinishReason, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
    "other": "stop",
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_json(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def model_json(agent_id: str, created: int) -> dict[str, Any]:
    """One agent as an OpenAI ``model`` object."""
    return {"id": agent_id, "object": "model", "created": created, "owned_by": "mastra"}


def usage_json(usage: Usage) -> dict[str, Any]:
    """Token usage with OpenAI's keys."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _call_json(call: ToolCallRecord) -> dict[str, Any]:
    args = call.args if isinstance(call.args, str) else _json.encode(call.args).decode()
    return {
        "id": call.tool_call_id,
        "type": "function",
        "function": {"name": call.tool_name, "arguments": args},
    }


def completion_id(run_id: str) -> str:
    """The completion id of the turn ``run_id``."""
    return f"chatcmpl-{run_id}"


def completion_json(result: GenerateResult, model: str, created: int) -> dict[str, Any]:
    """A finished turn as a ``chat.completion`` object."""
    calls = [_call_json(c) for c in result.tool_calls]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result.text if result.text or not calls else None,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    return {
        "id": completion_id(result.run_id),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _FINISH[result.finish_reason],
            }
        ],
        "usage": usage_json(result.usage),
        "system_fingerprint": None,
    }


class ChunkEncoder:
    """Encodes one streamed turn's agent chunks as ``chat.completion.chunk`` SSE events:
    the role first, then content and tool-call deltas as they are produced, then the
    finishing chunk and (with ``include_usage``) a usage chunk with no choices. A failed
    turn sends ``{"error": {...}}``, which OpenAI's clients raise."""

    def __init__(self, run_id: str, model: str, created: int, *, include_usage: bool) -> None:
        self.base = {
            "id": completion_id(run_id),
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
        }
        self.include_usage = include_usage
        self.calls = 0

    def _event(self, body: dict[str, Any]) -> bytes:
        return b"data: " + _json.encode(body) + b"\n\n"

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body: dict[str, Any] = {**self.base, "choices": [choice]}
        if self.include_usage:
            body["usage"] = None
        return self._event(body)

    def __call__(self, chunk: AgentChunk) -> bytes:
        """The SSE bytes for ``chunk``; empty for chunks OpenAI has no counterpart of."""
        match chunk:
            case AgentStart():
                return self._chunk({"role": "assistant", "content": "", "refusal": None})
            case TextStreamDelta(text=text):
                return self._chunk({"content": text})
            case ToolCallChunk(call=call):
                index, self.calls = self.calls, self.calls + 1
                return self._chunk({"tool_calls": [{"index": index, **_call_json(call)}]})
            case AgentFinish(result=result):
                return self._finish(result)
            case AgentError(message=message):
                return self._event(error_json(500, message, code=chunk.kind))
        return b""

    def _finish(self, result: GenerateResult) -> bytes:
        data = self._chunk({}, _FINISH[result.finish_reason])
        if self.include_usage:
            data += self._event({**self.base, "choices": [], "usage": usage_json(result.usage)})
        return data
