"""Anthropic Messages API wire format: request bodies, replies and errors (stream events
are in ``_anthropic_stream``).

Structured output is asked for with a forced tool whose input schema is the requested
schema; its input comes back as the answer text (JSON) instead of a tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

import msgspec

from actors.llm._errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    PermissionDeniedError,
    ProtocolError,
    ProviderError,
    ProviderTimeout,
    RateLimitedError,
    UnavailableError,
)
from actors.llm._retry import parse_retry_after, status_is_retryable
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ChatRequest,
    ChatResult,
    FinishReason,
    ForceTool,
    ImagePart,
    JsonSchemaFormat,
    SystemMessage,
    TextPart,
    ToolCall,
    ToolMessage,
    Usage,
    UserMessage,
)

__all__ = [
    "Block",
    "ErrorBody",
    "WireMessage",
    "WireUsage",
    "anthropic_error",
    "anthropic_error_body",
    "decode_message",
    "encode_messages",
    "finish_reason",
    "usage_of",
]

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_encoder = msgspec.json.Encoder()


# -- requests ----------------------------------------------------------------------------------


def _image(part: ImagePart) -> dict[str, Any]:
    if part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    return {"type": "image", "source": source}


def _user_blocks(message: UserMessage) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        return [{"type": "text", "text": message.content}]
    return [
        {"type": "text", "text": p.text} if isinstance(p, TextPart) else _image(p)
        for p in message.content
    ]


def _blocks(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    match message:
        case UserMessage():
            return "user", _user_blocks(message)
        case AssistantMessage(content=text, tool_calls=calls):
            blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
            for call in calls:
                blocks.append(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call)}
                )
            return "assistant", blocks
        case ToolMessage(tool_call_id=call_id, content=content, is_error=is_error):
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": call_id,
                "content": content,
            }
            if is_error:
                block["is_error"] = True
            return "user", [block]
        case SystemMessage():
            raise AssertionError("system messages go to the top-level field")
        case _:
            assert_never(message)


def _input(call: ToolCall) -> Any:
    try:
        return msgspec.json.decode(call.arguments or "{}")
    except msgspec.DecodeError:
        return {"_raw_arguments": call.arguments}


def _messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Vendor messages; consecutive messages of one role merge (tool results join a turn)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        role, blocks = _blocks(message)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def encode_messages(request: ChatRequest, model: str, *, stream: bool, max_tokens: int) -> bytes:
    """The ``/v1/messages`` body: system on top, ``max_tokens`` always present."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens or max_tokens,
        "messages": _messages(request.messages),
    }
    system = "\n\n".join(m.content for m in request.messages if isinstance(m, SystemMessage))
    if system:
        body["system"] = system
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    choice = _tool_choice(request)
    fmt = request.response_format
    if fmt is not None:
        name = fmt.name if isinstance(fmt, JsonSchemaFormat) else "response"
        schema = fmt.schema if isinstance(fmt, JsonSchemaFormat) else {"type": "object"}
        tools.append(
            {"name": name, "description": "Answer with this tool.", "input_schema": schema}
        )
        choice = {"type": "tool", "name": name}
    if tools:
        body["tools"] = tools
    if tools and choice is not None:
        body["tool_choice"] = choice
    if request.temperature is not None:
        body["temperature"] = min(request.temperature, 1.0)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = request.stop
    if stream:
        body["stream"] = True
    body.update(request.extra)
    return _encoder.encode(body)


def _tool_choice(request: ChatRequest) -> dict[str, Any] | None:
    choice = request.tool_choice
    if choice is None:
        return None
    if isinstance(choice, ForceTool):
        return {"type": "tool", "name": choice.name}
    return {"type": {"auto": "auto", "none": "none", "required": "any"}[choice]}


# -- replies -----------------------------------------------------------------------------------


class Block(msgspec.Struct):
    type: str
    text: str = ""
    id: str = ""
    name: str = ""
    input: Any = None


class WireUsage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int | None = None


class WireMessage(msgspec.Struct):
    id: str = ""
    model: str = ""
    content: list[Block] = []
    stop_reason: str | None = None
    usage: WireUsage | None = None


_message = msgspec.json.Decoder(WireMessage)


def usage_of(wire: WireUsage | None) -> Usage:
    if wire is None:
        return Usage()
    return Usage(
        input_tokens=wire.input_tokens,
        output_tokens=wire.output_tokens,
        cached_input_tokens=wire.cache_read_input_tokens or 0,
    )


def decode_message(body: bytes, provider: str, structured: str | None) -> ChatResult:
    """A ``message`` reply; ``structured`` names the forced output tool, if any."""
    try:
        wire = _message.decode(body)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed message: {exc}", provider=provider) from None
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in wire.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "tool_use" and block.name == structured:
            text.append(_encoder.encode(block.input).decode())
        elif block.type == "tool_use":
            args = _encoder.encode(block.input if block.input is not None else {}).decode()
            calls.append(ToolCall(id=block.id, name=block.name, arguments=args))
    return ChatResult(
        text="".join(text),
        tool_calls=calls,
        finish_reason=finish_reason(wire.stop_reason, structured, calls),
        usage=usage_of(wire.usage),
        response_id=wire.id or None,
        model=wire.model,
        provider=provider,
        raw_finish_reason=wire.stop_reason,
    )


def finish_reason(raw: str | None, structured: str | None, calls: list[ToolCall]) -> FinishReason:
    if raw == "tool_use" and structured is not None and not calls:
        return "stop"
    return "stop" if raw is None else _FINISH.get(raw, "other")


class ErrorBody(msgspec.Struct):
    type: str = ""
    message: str = ""


# -- errors ------------------------------------------------------------------------------------

_BY_TYPE: dict[str, type[ProviderError]] = {
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": BadRequestError,
    "request_too_large": BadRequestError,
    "invalid_request_error": BadRequestError,
    "rate_limit_error": RateLimitedError,
    "api_error": UnavailableError,
    "overloaded_error": UnavailableError,
    "timeout_error": ProviderTimeout,
}
_BY_STATUS: dict[int, type[ProviderError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    408: ProviderTimeout,
    429: RateLimitedError,
}


def anthropic_error_body(
    error: ErrorBody, provider: str, status: int | None, headers: Mapping[str, str]
) -> ProviderError:
    """The typed error for an Anthropic ``error`` object (reply or stream event)."""
    cls = _BY_TYPE.get(error.type)
    if cls is None:
        cls = _BY_STATUS.get(status or 0)
    if cls is None:
        cls = (
            UnavailableError
            if status is None or status >= 500 or status == 409
            else BadRequestError
        )
    lowered = error.message.lower()
    if cls is BadRequestError and "prompt is too long" in lowered:
        cls = ContextLengthError
    if cls is BadRequestError and "content filtering policy" in lowered:
        cls = ContentFilteredError
    return cls(
        error.message or f"{error.type or 'error'}",
        provider=provider,
        status=status,
        retryable=status_is_retryable(status, headers) if status is not None else None,
        retry_after=parse_retry_after(headers),
    )


class _ErrorEnvelope(msgspec.Struct):
    error: ErrorBody | None = None


_error_envelope = msgspec.json.Decoder(_ErrorEnvelope)


def anthropic_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> ProviderError:
    """The typed error for an HTTP error reply of the Messages API."""
    try:
        error = _error_envelope.decode(body).error
    except msgspec.DecodeError:
        error = None
    if error is None:
        text = body.decode("utf-8", "replace").strip()[:500]
        error = ErrorBody(message=text or f"HTTP {status}")
    return anthropic_error_body(error, provider, status, headers)
