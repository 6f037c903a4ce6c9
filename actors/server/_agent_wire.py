"""Agent requests and answers in Mastra's wire shapes (``/api/agents/...``)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

import msgspec

from actors.agent.messages import (
    AgentChunk,
    AgentError,
    AgentFinish,
    AgentInfo,
    AgentStart,
    GenerateResult,
    MemoryTarget,
    StepFinish,
    StepResult,
    StepStart,
    StructuredOutput,
    TextEnd,
    TextStart,
    TextStreamDelta,
    ToolCallChunk,
    ToolCallRecord,
    ToolResultChunk,
    ToolResultRecord,
)
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ContentPart,
    ImagePart,
    SystemMessage,
    TextPart,
    Usage,
    UserMessage,
)
from actors.server._http import BadRequest, Issue

__all__ = ["GenerateBody", "chat_messages", "chunk_json", "info_json", "result_json"]


class PartIn(msgspec.Struct, frozen=True, kw_only=True):
    """A content part as clients send it: ``{type: "text", text}`` or an image given as a
    URL, a ``data:`` URL, or base64 with ``mimeType`` (``mediaType`` in AI SDK v5)."""

    type: Literal["text", "image", "image_url"]
    text: str | None = None
    image: str | None = None
    url: str | None = None
    mimeType: str | None = None
    mediaType: str | None = None


class MessageIn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the conversation the client sends."""

    role: Literal["user", "assistant", "system"]
    content: str | list[PartIn]


class MemoryIn(msgspec.Struct, frozen=True, kw_only=True):
    """``memory: {thread, resource}``; ``thread`` may also be ``{id}``."""

    thread: str | dict[str, Any]
    resource: str
    options: dict[str, Any] = {}


class StructuredIn(msgspec.Struct, frozen=True, kw_only=True):
    """``structuredOutput: {schema}`` (a JSON Schema object)."""

    schema: dict[str, Any]


class GenerateBody(msgspec.Struct, frozen=True, kw_only=True):
    """The body of ``POST /api/agents/:agentId/generate`` and ``/stream``."""

    messages: str | list[str | MessageIn]
    memory: MemoryIn | None = None
    threadId: str | None = None
    resourceId: str | None = None
    runId: str | None = None
    maxSteps: Annotated[int, msgspec.Meta(ge=1)] | None = None
    structuredOutput: StructuredIn | None = None
    requestContext: dict[str, Any] = {}
    temperature: Annotated[float, msgspec.Meta(ge=0)] | None = None
    maxTokens: Annotated[int, msgspec.Meta(ge=1)] | None = None

    def memory_target(self) -> MemoryTarget | None:
        """The conversation to read and extend, if the request names one."""
        if self.memory is not None:
            thread = self.memory.thread
            thread_id = thread if isinstance(thread, str) else str(thread.get("id", ""))
            if not thread_id:
                raise BadRequest(
                    [
                        Issue(
                            field="memory.thread",
                            message="a thread id is required",
                            path="$.memory.thread",
                        )
                    ]
                )
            return MemoryTarget(thread=thread_id, resource=self.memory.resource)
        if self.threadId and self.resourceId:
            return MemoryTarget(thread=self.threadId, resource=self.resourceId)
        return None

    def structured(self) -> StructuredOutput | None:
        """The structured-output request, if any."""
        return (
            None
            if self.structuredOutput is None
            else StructuredOutput(schema=self.structuredOutput.schema)
        )


_DATA_URL = re.compile(
    r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^,;]*)*),(?P<data>.*)$", re.S
)


def _part(part: PartIn, path: str) -> ContentPart:
    if part.type == "text" and part.text is not None:
        return TextPart(text=part.text)
    source = part.image or part.url
    if part.type != "text" and source:
        return _image(source, part.mimeType or part.mediaType, path)
    raise _bad_part(path, "a text part needs `text`, an image part `image` or `url`")


def _image(source: str, declared: str | None, path: str) -> ImagePart:
    """An image from a URL, a ``data:`` URL, or plain base64 with its declared type."""
    if source.startswith(("http://", "https://")):
        return ImagePart(url=source)
    media_type = declared or "image/png"
    data = source
    if source.startswith("data:"):
        match = _DATA_URL.match(source)
        if match is None or ";base64" not in match.group("params"):
            raise _bad_part(path, "a data URL image must be base64 (data:<type>;base64,...)")
        media_type = match.group("type") or media_type
        data = match.group("data")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_part(path, "image data is not valid base64") from None
    return ImagePart(data=data, media_type=media_type)


def _bad_part(path: str, message: str) -> BadRequest:
    return BadRequest([Issue(field=path.removeprefix("$."), message=message, path=path)])


def _message(item: str | MessageIn, index: int) -> ChatMessage:
    if isinstance(item, str):
        return UserMessage(content=item)
    path = f"$.messages[{index}].content"
    if item.role == "user":
        if isinstance(item.content, str):
            return UserMessage(content=item.content)
        return UserMessage(content=[_part(p, f"{path}[{i}]") for i, p in enumerate(item.content)])
    text = (
        item.content
        if isinstance(item.content, str)
        else "".join(p.text or "" for p in item.content)
    )
    return SystemMessage(content=text) if item.role == "system" else AssistantMessage(content=text)


def chat_messages(body: GenerateBody) -> list[ChatMessage]:
    """The request's messages in the runtime's vocabulary; 400 when there are none."""
    items = [body.messages] if isinstance(body.messages, str) else body.messages
    if not items:
        raise BadRequest(
            [
                Issue(
                    field="messages",
                    message="Invalid input: at least one message is required",
                    path="$.messages",
                )
            ]
        )
    return [_message(item, i) for i, item in enumerate(items)]


def _finish_reason(reason: str) -> str:
    return reason.replace("_", "-")


def usage_json(usage: Usage) -> dict[str, int]:
    """Token usage with Mastra's keys."""
    return {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.input_tokens + usage.output_tokens,
        "reasoningTokens": usage.reasoning_tokens,
        "cachedInputTokens": usage.cached_input_tokens,
    }


def _envelope(kind: str, run_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "runId": run_id, "from": "AGENT", "payload": payload}


def _call_payload(call: ToolCallRecord) -> dict[str, Any]:
    return {"toolCallId": call.tool_call_id, "toolName": call.tool_name, "args": call.args}


def _result_payload(result: ToolResultRecord) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "args": result.args,
        "toolCallId": result.tool_call_id,
        "toolName": result.tool_name,
        "result": result.result if result.ok else result.error,
    }
    if not result.ok:
        payload["isError"] = True
    return payload


def _step_json(step: StepResult, run_id: str) -> dict[str, Any]:
    return {
        "stepType": "initial" if step.step == 0 else "tool-result",
        "text": step.text,
        "toolCalls": [_envelope("tool-call", run_id, _call_payload(c)) for c in step.tool_calls],
        "toolResults": [
            _envelope("tool-result", run_id, _result_payload(r)) for r in step.tool_results
        ],
        "finishReason": _finish_reason(step.finish_reason),
        "usage": usage_json(step.usage),
        "warnings": [],
        "request": {},
        "response": {"modelId": step.model},
    }


def _message_json(message: ChatMessage) -> dict[str, Any]:
    return msgspec.to_builtins(message)  # type: ignore[no-any-return]


def result_json(result: GenerateResult) -> dict[str, Any]:
    """``generate``'s answer in Mastra's shape."""
    usage = usage_json(result.usage)
    body: dict[str, Any] = {
        "text": result.text,
        "usage": usage,
        "totalUsage": usage,
        "steps": [_step_json(s, result.run_id) for s in result.steps],
        "finishReason": _finish_reason(result.finish_reason),
        "toolCalls": [
            _envelope("tool-call", result.run_id, _call_payload(c)) for c in result.tool_calls
        ],
        "toolResults": [
            _envelope("tool-result", result.run_id, _result_payload(r)) for r in result.tool_results
        ],
        "response": {
            "id": f"resp-{result.run_id}",
            "modelId": result.model,
            "messages": [_message_json(m) for m in result.messages],
        },
        "runId": result.run_id,
        "warnings": [],
        "request": {},
        "reasoning": [],
        "sources": [],
        "files": [],
    }
    if result.object is not None:
        body["object"] = result.object
    return body


def chunk_json(chunk: AgentChunk, agent: str) -> dict[str, Any]:  # noqa: PLR0911 - one case per chunk
    """One stream chunk as Mastra's SSE event object."""
    match chunk:
        case AgentStart(run_id=run_id):
            return _envelope("start", run_id, {"id": agent, "messageId": run_id})
        case StepStart(run_id=run_id):
            return _envelope(
                "step-start", run_id, {"messageId": run_id, "request": {}, "warnings": []}
            )
        case TextStart(run_id=run_id, id=text_id):
            return _envelope("text-start", run_id, {"id": text_id})
        case TextStreamDelta(run_id=run_id, id=text_id, text=text):
            return _envelope("text-delta", run_id, {"id": text_id, "text": text})
        case TextEnd(run_id=run_id, id=text_id):
            return _envelope("text-end", run_id, {"type": "text-end", "id": text_id})
        case ToolCallChunk(run_id=run_id, call=call):
            return _envelope("tool-call", run_id, _call_payload(call))
        case ToolResultChunk(run_id=run_id, result=result):
            return _envelope("tool-result", run_id, _result_payload(result))
        case StepFinish(run_id=run_id, step=step, is_continued=continued):
            return _envelope(
                "step-finish",
                run_id,
                _finish_payload(
                    run_id,
                    step.finish_reason,
                    continued=continued,
                    text=step.text,
                    calls=step.tool_calls,
                    usage=step.usage,
                ),
            )
        case AgentFinish(run_id=run_id, result=result):
            return _envelope(
                "finish",
                run_id,
                _finish_payload(
                    run_id,
                    result.finish_reason,
                    continued=False,
                    text=result.text,
                    calls=[],
                    usage=result.usage,
                ),
            )
        case AgentError(run_id=run_id, message=message, kind=kind):
            return _envelope("error", run_id, {"error": {"message": message, "kind": kind}})
    raise TypeError(f"unknown chunk {type(chunk).__name__}")


def _finish_payload(
    run_id: str,
    reason: str,
    *,
    continued: bool,
    text: str,
    calls: list[ToolCallRecord],
    usage: Usage,
) -> dict[str, Any]:
    return {
        "messageId": run_id,
        "stepResult": {
            "reason": _finish_reason(reason),
            "rawReason": reason,
            "isContinued": continued,
        },
        "output": {
            "text": text,
            "toolCalls": [_call_payload(c) for c in calls],
            "usage": usage_json(usage),
        },
    }


def info_json(info: AgentInfo, tools: dict[str, Any]) -> dict[str, Any]:
    """An agent as ``GET /api/agents`` lists it."""
    provider, _, model_id = info.model.partition("/")
    return {
        "id": info.name,
        "name": info.name,
        "description": info.description,
        "instructions": info.instructions,
        "tools": tools,
        "agents": {},
        "workflows": {},
        "provider": provider,
        "modelId": model_id or info.model,
        "supportsMemory": info.memory,
        "defaultOptions": {"maxSteps": info.max_steps},
        "source": "code",
    }
