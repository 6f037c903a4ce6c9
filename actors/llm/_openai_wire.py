"""OpenAI chat completions wire format: request bodies, replies, errors (stream chunks are
in ``_openai_stream``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    "WireChoice",
    "WireFunction",
    "WireToolCall",
    "completion_decoder",
    "decode_completion",
    "encode_chat",
    "finish_reason",
    "openai_error",
    "openai_error_body",
    "usage_of",
]


# -- reply shapes (unknown fields are ignored) -------------------------------------------------


class WireFunction(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class WireToolCall(msgspec.Struct):
    index: int = 0
    id: str | None = None
    function: WireFunction | None = None


class _Message(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[WireToolCall] | None = None


class WireChoice(msgspec.Struct):
    index: int = 0
    message: _Message | None = None
    delta: _Message | None = None
    finish_reason: str | None = None


class _Details(msgspec.Struct):
    cached_tokens: int = 0
    reasoning_tokens: int = 0


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: _Details | None = None
    completion_tokens_details: _Details | None = None


class _ErrorBody(msgspec.Struct):
    message: str = ""
    type: str | None = None
    code: str | int | None = None


class _Completion(msgspec.Struct):
    id: str = ""
    model: str = ""
    choices: list[WireChoice] = []
    usage: _Usage | None = None
    error: _ErrorBody | None = None


class _ErrorEnvelope(msgspec.Struct):
    error: _ErrorBody | str | None = None


completion_decoder = msgspec.json.Decoder(_Completion)
_error_envelope = msgspec.json.Decoder(_ErrorEnvelope)
_encoder = msgspec.json.Encoder()

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


# -- requests ----------------------------------------------------------------------------------


def _content(message: UserMessage) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        else:
            parts.append({"type": "image_url", "image_url": {"url": _image_url(part)}})
    return parts


def _image_url(part: ImagePart) -> str:
    if part.url is not None:
        return part.url
    return f"data:{part.media_type};base64,{part.data}"


def _message(message: ChatMessage) -> dict[str, Any]:
    match message:
        case SystemMessage(content=content):
            return {"role": "system", "content": content}
        case UserMessage():
            return {"role": "user", "content": _content(message)}
        case AssistantMessage(content=content, tool_calls=calls):
            out: dict[str, Any] = {"role": "assistant", "content": content or None}
            if calls:
                out["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in calls
                ]
            return out
        case ToolMessage(tool_call_id=call_id, content=content):
            return {"role": "tool", "tool_call_id": call_id, "content": content}


def encode_chat(
    request: ChatRequest,
    model: str,
    *,
    stream: bool,
    tool_choice: bool = True,
    stream_usage: bool = True,
    max_tokens_field: str = "max_tokens",
) -> bytes:
    """The ``/chat/completions`` body; ``tool_choice=False`` leaves that field out."""
    body: dict[str, Any] = {"model": model, "messages": [_message(m) for m in request.messages]}
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
        if tool_choice and request.tool_choice is not None:
            choice = request.tool_choice
            body["tool_choice"] = (
                {"type": "function", "function": {"name": choice.name}}
                if isinstance(choice, ForceTool)
                else choice
            )
    fmt = request.response_format
    if isinstance(fmt, JsonSchemaFormat):
        schema = {"name": fmt.name, "schema": fmt.schema, "strict": fmt.strict}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif fmt is not None:
        body["response_format"] = {"type": "json_object"}
    _options(body, request, max_tokens_field)
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    body.update(request.extra)
    return _encoder.encode(body)


def _options(body: dict[str, Any], request: ChatRequest, max_tokens_field: str) -> None:
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.stop:
        body["stop"] = request.stop
    if request.seed is not None:
        body["seed"] = request.seed


# -- replies -----------------------------------------------------------------------------------


def usage_of(wire: _Usage) -> Usage:
    cached = wire.prompt_tokens_details.cached_tokens if wire.prompt_tokens_details else 0
    details = wire.completion_tokens_details
    return Usage(
        input_tokens=wire.prompt_tokens,
        output_tokens=wire.completion_tokens,
        cached_input_tokens=cached,
        reasoning_tokens=details.reasoning_tokens if details else 0,
    )


def finish_reason(raw: str | None) -> FinishReason:
    return "stop" if raw is None else _FINISH.get(raw, "other")


def decode_completion(body: bytes, provider: str, model: str) -> ChatResult:
    """A ``chat.completion`` reply; raises ``ProtocolError`` when malformed."""
    try:
        wire = completion_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"malformed completion: {exc}", provider=provider) from None
    if wire.error is not None:
        raise openai_error_body(wire.error, provider, None)
    if not wire.choices or wire.choices[0].message is None:
        raise ProtocolError("the completion has no choices[0].message", provider=provider)
    choice = wire.choices[0]
    message = choice.message
    assert message is not None
    calls = [
        ToolCall(
            id=c.id or f"call_{i}", name=c.function.name or "", arguments=c.function.arguments or ""
        )
        for i, c in enumerate(message.tool_calls or [])
        if c.function is not None
    ]
    return ChatResult(
        text=message.content or message.refusal or "",
        tool_calls=calls,
        finish_reason="content_filter" if message.refusal else finish_reason(choice.finish_reason),
        usage=usage_of(wire.usage) if wire.usage else Usage(),
        response_id=wire.id or None,
        model=wire.model or model,
        provider=provider,
        raw_finish_reason=choice.finish_reason,
    )


# -- errors ------------------------------------------------------------------------------------


def _error_class(status: int | None, code: str, kind: str, message: str) -> type[ProviderError]:
    lowered = message.lower()
    if code == "context_length_exceeded" or "maximum context length" in lowered:
        return ContextLengthError
    if code in ("content_filter", "content_policy_violation") or kind == "content_filter":
        return ContentFilteredError
    by_status: dict[int, type[ProviderError]] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        408: ProviderTimeout,
        429: RateLimitedError,
    }
    if status is None:
        return RateLimitedError if "rate_limit" in f"{code} {kind}" else UnavailableError
    if status in by_status:
        return by_status[status]
    if status >= 500 or status == 409:
        return UnavailableError
    return BadRequestError


def openai_error_body(
    body: _ErrorBody, provider: str, status: int | None, headers: Mapping[str, str] | None = None
) -> ProviderError:
    """The typed error for an OpenAI ``error`` object (in a reply or a stream chunk)."""
    code = "" if body.code is None else str(body.code)
    cls = _error_class(status, code, body.type or "", body.message)
    headers = headers or {}
    return cls(
        body.message or f"error {code or body.type or status}",
        provider=provider,
        status=status,
        retryable=status_is_retryable(status, headers) if status is not None else None,
        retry_after=parse_retry_after(headers),
    )


def openai_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> ProviderError:
    """The typed error for an HTTP error reply of an OpenAI-compatible vendor."""
    try:
        error = _error_envelope.decode(body).error
    except msgspec.DecodeError:
        error = None
    if isinstance(error, str):
        error = _ErrorBody(message=error)
    if error is None:
        text = body.decode("utf-8", "replace").strip()[:500]
        error = _ErrorBody(message=text or f"HTTP {status}")
    return openai_error_body(error, provider, status, headers)
