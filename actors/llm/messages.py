"""The LLM message vocabulary shared by agents, providers and the server.

Everything here is a frozen, ``kw_only`` msgspec Struct that round-trips through msgpack
and JSON. Chat messages are tagged by ``role``, content parts, stream chunks and the output
formats by ``type``, so their JSON looks like the vendors' (``{"role": "user", ...}``).

Requests to a provider actor:

- ``ChatRequest``: ``ask`` replies a ``ChatResult``; ``stream`` yields ``StreamChunk`` values
  ending with ``Finish`` (or ``StreamError`` just before the stream raises).
- ``EmbedRequest``: ``ask`` replies an ``EmbeddingResult``.

Invalid combinations (an image part with both ``url`` and ``data``, a negative
``max_tokens``) raise ``ValueError`` when built in Python and ``msgspec.ValidationError``
naming the field when decoded.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "AssistantMessage",
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "ContentPart",
    "EmbedRequest",
    "EmbeddingResult",
    "ErrorKind",
    "Finish",
    "FinishReason",
    "ForceTool",
    "ImagePart",
    "JsonObjectFormat",
    "JsonSchemaFormat",
    "ProviderRequest",
    "ResponseFormat",
    "StreamChunk",
    "StreamError",
    "SystemMessage",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolChoice",
    "ToolDefinition",
    "ToolMessage",
    "Usage",
    "UsageChunk",
    "UserMessage",
    "last_user_text",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "other"]
"""Why a model stopped: natural end, token limit, tool calls, a vendor filter, or other."""

ErrorKind = Literal[
    "authentication",
    "permission",
    "bad_request",
    "context_length",
    "content_filtered",
    "rate_limited",
    "unavailable",
    "timeout",
    "protocol",
    "interrupted",
]
"""The kind of a provider failure; ``actors.llm`` maps each to one exception class."""


def _fail(field: str, problem: str) -> None:
    raise ValueError(f"{field}: {problem}")


class _Struct(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    pass


# -- content parts ---------------------------------------------------------------------------


class TextPart(_Struct, frozen=True, tag_field="type", tag="text"):
    """A piece of text in a user message."""

    text: str


class ImagePart(_Struct, frozen=True, tag_field="type", tag="image"):
    """An image given by ``url`` or by base64 ``data`` with its ``media_type`` (exactly one)."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            _fail("image", "give exactly one of `url` or `data`")
        if self.data is not None and not self.media_type:
            _fail("image.media_type", "required with base64 `data` (for example image/png)")


ContentPart = TextPart | ImagePart


# -- tools -------------------------------------------------------------------------------------


class ToolDefinition(_Struct, frozen=True):
    """A tool the model may call; ``parameters`` is the JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def __post_init__(self) -> None:
        if not self.name:
            _fail("tools[].name", "must not be empty")


class ToolCall(_Struct, frozen=True):
    """One call the model asked for; ``arguments`` is the model's raw JSON text."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON; raises ``ValueError`` naming the call if invalid."""
        try:
            return msgspec.json.decode(self.arguments or "{}")
        except msgspec.DecodeError as exc:
            raise ValueError(f"tool call {self.id} ({self.name}): arguments: {exc}") from None


class ForceTool(_Struct, frozen=True, tag_field="type", tag="tool"):
    """Tool choice that forces a call of the tool ``name``."""

    name: str


ToolChoice = Literal["auto", "none", "required"] | ForceTool
"""``auto`` (the model decides), ``none``, ``required`` (any tool) or one named tool."""


# -- output formats ----------------------------------------------------------------------------


class JsonSchemaFormat(_Struct, frozen=True, tag_field="type", tag="json_schema"):
    """Structured output: the reply text is JSON valid against ``schema``."""

    schema: dict[str, Any]
    name: str = "response"
    strict: bool = True


class JsonObjectFormat(_Struct, frozen=True, tag_field="type", tag="json_object"):
    """The reply text is some JSON object (no schema)."""


ResponseFormat = JsonSchemaFormat | JsonObjectFormat


# -- chat messages -----------------------------------------------------------------------------


class SystemMessage(_Struct, frozen=True, tag_field="role", tag="system"):
    """Instructions for the model."""

    content: str


class UserMessage(_Struct, frozen=True, tag_field="role", tag="user"):
    """What the user said: plain text or a list of text and image parts."""

    content: str | list[ContentPart]

    def text(self) -> str:
        """The text of the message (text parts joined by newlines, images left out)."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))


class AssistantMessage(_Struct, frozen=True, tag_field="role", tag="assistant"):
    """An earlier model turn: its text and the tool calls it made."""

    content: str = ""
    tool_calls: list[ToolCall] = []


class ToolMessage(_Struct, frozen=True, tag_field="role", tag="tool"):
    """The result of the tool call ``tool_call_id``; ``content`` is text (often JSON)."""

    tool_call_id: str
    content: str
    name: str = ""
    is_error: bool = False


ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage


def last_user_text(messages: list[ChatMessage]) -> str:
    """The text of the last user message, or ``""`` when there is none."""
    for message in reversed(messages):
        if isinstance(message, UserMessage):
            return message.text()
    return ""


# -- usage and results -------------------------------------------------------------------------


class Usage(_Struct, frozen=True):
    """Token counts of one model call (or a sum of calls, with ``+``)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


class ChatRequest(_Struct, frozen=True, tag=True):
    """One model call. ``model`` None means the provider's default model.

    ``extra`` is merged into the vendor request body as is (vendor-specific options).
    """

    messages: list[ChatMessage]
    model: str | None = None
    tools: list[ToolDefinition] = []
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] = []
    seed: int | None = None
    extra: dict[str, Any] = {}

    def __post_init__(self) -> None:
        if not self.messages:
            _fail("messages", "at least one message is required")
        if self.max_tokens is not None and self.max_tokens <= 0:
            _fail("max_tokens", "must be positive")
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            _fail("temperature", "must be between 0 and 2")
        if isinstance(self.tool_choice, ForceTool) and self.tool_choice.name not in {
            t.name for t in self.tools
        }:
            _fail("tool_choice.name", f"{self.tool_choice.name!r} is not one of the tools")


class ChatResult(_Struct, frozen=True, tag=True):
    """What the model answered.

    ``provider`` and ``model`` name who answered (with a fallback list, the one that
    succeeded; ``fallbacks`` lists the ``provider/model`` targets that failed before it).
    ``raw_finish_reason`` is the vendor's own word for the finish reason.
    """

    text: str = ""
    tool_calls: list[ToolCall] = []
    finish_reason: FinishReason = "stop"
    usage: Usage = Usage()
    response_id: str | None = None
    model: str = ""
    provider: str = ""
    raw_finish_reason: str | None = None
    fallbacks: list[str] = []


# -- stream chunks -----------------------------------------------------------------------------


class TextDelta(_Struct, frozen=True, tag_field="type", tag="text-delta"):
    """More answer text."""

    text: str


class ToolCallStart(_Struct, frozen=True, tag_field="type", tag="tool-call-start"):
    """The model started the tool call number ``index`` (order of appearance)."""

    index: int
    id: str
    name: str


class ToolCallDelta(_Struct, frozen=True, tag_field="type", tag="tool-call-delta"):
    """More argument text of the tool call ``index``."""

    index: int
    arguments: str


class ToolCallEnd(_Struct, frozen=True, tag_field="type", tag="tool-call-end"):
    """The tool call ``index`` is complete; ``call`` holds its assembled arguments."""

    index: int
    call: ToolCall


class UsageChunk(_Struct, frozen=True, tag_field="type", tag="usage"):
    """Token usage of the call, as the vendor reported it."""

    usage: Usage


class Finish(_Struct, frozen=True, tag_field="type", tag="finish"):
    """The last chunk of a successful stream: the whole answer, assembled."""

    result: ChatResult


class StreamError(_Struct, frozen=True, tag_field="type", tag="error"):
    """The stream failed; the iterator raises the matching typed error right after this.

    ``delivered`` tells whether content had reached the caller before the failure (then the
    call was not retried and partial text may have been shown).
    """

    kind: ErrorKind
    message: str
    provider: str = ""
    status: int | None = None
    delivered: bool = False


StreamChunk = (
    TextDelta | ToolCallStart | ToolCallDelta | ToolCallEnd | UsageChunk | Finish | StreamError
)


# -- embeddings --------------------------------------------------------------------------------


class EmbedRequest(_Struct, frozen=True, tag=True):
    """Embed ``inputs`` (one vector each, same order). ``model`` None: provider default."""

    inputs: list[str]
    model: str | None = None
    dimensions: int | None = None

    def __post_init__(self) -> None:
        if not self.inputs:
            _fail("inputs", "at least one input is required")
        if self.dimensions is not None and self.dimensions <= 0:
            _fail("dimensions", "must be positive")


class EmbeddingResult(_Struct, frozen=True, tag=True):
    """One vector per input, in input order."""

    vectors: list[list[float]]
    model: str = ""
    provider: str = ""
    usage: Usage = Usage()


ProviderRequest = ChatRequest | EmbedRequest
"""Every request a provider actor understands."""
