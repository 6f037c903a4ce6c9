"""OpenAI chat-completion requests (``POST /v1/chat/completions``) in the runtime's terms.

The body is decoded by msgspec into ``CompletionBody``; ``chat_messages`` then turns
OpenAI's messages (system, developer, user, assistant, tool; text and image content parts)
into the runtime's chat messages. Every problem raises ``BadRequest`` naming the field, as
OpenAI's ``param`` does (``messages[1].content[0].type``).
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Annotated, Any, Literal

import msgspec

from actors.agent.messages import StructuredOutput
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ContentPart,
    ForceTool,
    ImagePart,
    SystemMessage,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolMessage,
    UserMessage,
)
from actors.server._http import BadRequest, Issue

__all__ = ["CompletionBody", "bad_field", "chat_messages", "structured_output", "tool_choice"]


class ImageUrlIn(msgspec.Struct, frozen=True, kw_only=True):
    """``{"url": "https://..." | "data:image/png;base64,...", "detail"?}``."""

    url: str
    detail: str | None = None


class PartIn(msgspec.Struct, frozen=True, kw_only=True):
    """A content part; the runtime takes ``text`` and ``image_url`` (``refusal`` from an
    assistant is read as text)."""

    type: str
    text: str | None = None
    refusal: str | None = None
    image_url: ImageUrlIn | None = None


class FunctionCallIn(msgspec.Struct, frozen=True, kw_only=True):
    """The function of an assistant's tool call: its name and JSON arguments text."""

    name: str
    arguments: str = "{}"


class ToolCallIn(msgspec.Struct, frozen=True, kw_only=True):
    """One tool call an earlier assistant message made."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCallIn


class MessageIn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of OpenAI's chat format."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[PartIn] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None


class FunctionDefIn(msgspec.Struct, frozen=True, kw_only=True):
    """A client-side function definition (accepted, not offered to the agent)."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolIn(msgspec.Struct, frozen=True, kw_only=True):
    """``{"type": "function", "function": {...}}``."""

    type: Literal["function"]
    function: FunctionDefIn


class FunctionNameIn(msgspec.Struct, frozen=True, kw_only=True):
    """``{"name": ...}``."""

    name: str


class NamedToolChoiceIn(msgspec.Struct, frozen=True, kw_only=True):
    """``{"type": "function", "function": {"name": ...}}``: force one tool."""

    type: Literal["function"]
    function: FunctionNameIn


class JsonSchemaIn(msgspec.Struct, frozen=True, kw_only=True):
    """``response_format.json_schema``."""

    name: str = "response"
    schema: dict[str, Any] | None = None
    description: str | None = None
    strict: bool | None = None


class ResponseFormatIn(msgspec.Struct, frozen=True, kw_only=True):
    """``{"type": "text" | "json_object" | "json_schema", "json_schema"?}``."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaIn | None = None


class StreamOptionsIn(msgspec.Struct, frozen=True, kw_only=True):
    """``stream_options``: a last chunk with the usage when ``include_usage``."""

    include_usage: bool = False


class CompletionBody(msgspec.Struct, frozen=True, kw_only=True):
    """The body of ``POST /v1/chat/completions``; ``model`` is an agent id. Fields OpenAI
    defines that an agent has no use for (``top_p``, ``seed``, ``logprobs``...) are
    ignored, as are unknown ones."""

    model: str
    messages: list[MessageIn]
    stream: bool = False
    stream_options: StreamOptionsIn | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    n: Annotated[int, msgspec.Meta(ge=1)] = 1
    tools: list[ToolIn] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoiceIn | None = None
    response_format: ResponseFormatIn | None = None
    user: str | None = None

    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage

    def token_limit(self) -> int | None:
        """``max_completion_tokens``, or the older ``max_tokens``."""
        return self.max_completion_tokens or self.max_tokens


def bad_field(field: str, message: str) -> BadRequest:
    """A ``BadRequest`` naming ``field`` (dotted, with ``[i]`` indexes)."""
    return BadRequest([Issue(field=field, message=message, path=f"$.{field}")])


def _text(content: str | list[PartIn] | None, field: str) -> str:
    """The text of a message that may only hold text (system, assistant, tool)."""
    if content is None or isinstance(content, str):
        return content or ""
    pieces = []
    for index, part in enumerate(content):
        value = part.text if part.type == "text" else part.refusal
        if part.type not in ("text", "refusal") or value is None:
            raise bad_field(
                f"{field}[{index}]", "only text parts are supported in this message's content"
            )
        pieces.append(value)
    return "".join(pieces)


def _image(url: str, field: str) -> ImagePart:
    if url.startswith(("http://", "https://")):
        return ImagePart(url=url)
    header, comma, data = url.partition(",")
    if not (url.startswith("data:") and comma and header.endswith(";base64")):
        raise bad_field(field, "expected an http(s) URL or a base64 data URL")
    try:
        b64decode(data, validate=True)
    except binascii.Error:
        raise bad_field(field, "the data URL does not hold valid base64") from None
    media_type = header.removeprefix("data:").removesuffix(";base64") or "image/png"
    return ImagePart(data=data, media_type=media_type)


def _user_content(content: str | list[PartIn] | None, field: str) -> str | list[ContentPart]:
    if content is None:
        raise bad_field(field, "a user message needs content")
    if isinstance(content, str):
        return content
    parts: list[ContentPart] = []
    for index, part in enumerate(content):
        where = f"{field}[{index}]"
        if part.type == "text" and part.text is not None:
            parts.append(TextPart(text=part.text))
        elif part.type == "image_url" and part.image_url is not None:
            parts.append(_image(part.image_url.url, f"{where}.image_url.url"))
        else:
            raise bad_field(
                f"{where}.type",
                f"unsupported content part {part.type!r}: use text or image_url",
            )
    return parts


def _answered(messages: list[MessageIn]) -> set[str]:
    return {m.tool_call_id for m in messages if m.role == "tool" and m.tool_call_id}


def _assistant(message: MessageIn, field: str, answered: set[str]) -> AssistantMessage:
    """An earlier assistant turn. Its tool calls are kept only when the request also holds
    their results: the calls this server's agents make run on the server, so a client
    that sends an answer back unchanged sends them without results."""
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
        for c in message.tool_calls or []
    ]
    if not all(c.id in answered for c in calls):
        calls = []
    return AssistantMessage(content=_text(message.content, f"{field}.content"), tool_calls=calls)


def chat_messages(body: CompletionBody) -> list[ChatMessage]:
    """The request's messages in the runtime's vocabulary; ``BadRequest`` naming the field
    when there are none, a part is not supported, or a tool result answers no call."""
    if not body.messages:
        raise bad_field("messages", "at least one message is required")
    answered = _answered(body.messages)
    calls: dict[str, str] = {}
    result: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        field = f"messages[{index}]"
        match message.role:
            case "system" | "developer":
                result.append(SystemMessage(content=_text(message.content, f"{field}.content")))
            case "user":
                content = _user_content(message.content, f"{field}.content")
                result.append(UserMessage(content=content))
            case "assistant":
                assistant = _assistant(message, field, answered)
                calls.update((c.id, c.name) for c in assistant.tool_calls)
                result.append(assistant)
            case "tool":
                call_id = message.tool_call_id
                if not call_id or call_id not in calls:
                    raise bad_field(
                        f"{field}.tool_call_id",
                        "a tool message must answer a tool call of an earlier assistant message",
                    )
                text = _text(message.content, f"{field}.content")
                result.append(ToolMessage(tool_call_id=call_id, content=text, name=calls[call_id]))
    return result


def tool_choice(body: CompletionBody) -> ToolChoice | None:
    """The tool choice to pass to the agent (which applies it to its own tools)."""
    choice = body.tool_choice
    if choice is None or isinstance(choice, str):
        return choice
    return ForceTool(name=choice.function.name)


def structured_output(body: CompletionBody) -> StructuredOutput | None:
    """``response_format`` as the agent's structured output: a JSON schema, or nothing for
    ``text``. ``json_object`` (JSON without a schema) is refused: agents ask their models
    for schema-checked output only."""
    fmt = body.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        raise bad_field("response_format.type", "json_object is not supported: use json_schema")
    if fmt.json_schema is None or fmt.json_schema.schema is None:
        raise bad_field("response_format.json_schema.schema", "a JSON schema is required")
    return StructuredOutput(schema=fmt.json_schema.schema, name=fmt.json_schema.name)
