"""Anthropic streaming: ``message_start ... message_stop`` events assembled into chunks."""

from __future__ import annotations

import msgspec

from actors.llm._anthropic_wire import (
    Block,
    ErrorBody,
    WireMessage,
    WireUsage,
    anthropic_error_body,
    finish_reason,
    usage_of,
)
from actors.llm._errors import ProtocolError
from actors.llm._sse import ServerSentEvent
from actors.llm.messages import (
    ChatResult,
    StreamChunk,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageChunk,
)

__all__ = ["AnthropicAssembler"]


class _Delta(msgspec.Struct):
    type: str = ""
    text: str = ""
    partial_json: str = ""
    stop_reason: str | None = None


class _Event(msgspec.Struct):
    type: str
    index: int = 0
    message: WireMessage | None = None
    content_block: Block | None = None
    delta: _Delta | None = None
    usage: WireUsage | None = None
    error: ErrorBody | None = None


_event = msgspec.json.Decoder(_Event)


class _Open:
    __slots__ = ("arguments", "id", "name", "ordinal", "structured")

    def __init__(self, ordinal: int, block: Block, structured: bool) -> None:
        self.ordinal = ordinal
        self.id = block.id
        self.name = block.name
        self.structured = structured
        self.arguments: list[str] = []


class AnthropicAssembler:
    """Assembles ``message_start ... message_stop``; ``error`` events raise typed errors."""

    def __init__(self, provider: str, model: str, structured: str | None) -> None:
        self.provider = provider
        self.done = False
        self._structured = structured
        self._model = model
        self._id = ""
        self._text: list[str] = []
        self._open: dict[int, _Open] = {}
        self._calls: list[ToolCall] = []
        self._raw_finish: str | None = None
        self._usage = Usage()

    def feed(self, event: ServerSentEvent) -> list[StreamChunk]:
        """Chunks for one event (``ping`` gives none)."""
        try:
            wire = _event.decode(event.data)
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"malformed stream event: {exc}", provider=self.provider) from None
        match wire.type:
            case "message_start" if wire.message is not None:
                self._id, self._model = wire.message.id, wire.message.model or self._model
                self._usage = usage_of(wire.message.usage)
            case "content_block_start" if wire.content_block is not None:
                return self._start(wire.index, wire.content_block)
            case "content_block_delta" if wire.delta is not None:
                return self._delta(wire.index, wire.delta)
            case "content_block_stop":
                return self._stop(wire.index)
            case "message_delta":
                return self._message_delta(wire)
            case "message_stop":
                self.done = True
            case "error":
                error = wire.error or ErrorBody(message="error event without details")
                raise anthropic_error_body(error, self.provider, None, {})
        return []

    def _start(self, index: int, block: Block) -> list[StreamChunk]:
        if block.type != "tool_use":
            if block.text:
                self._text.append(block.text)
                return [TextDelta(text=block.text)]
            return []
        structured = block.name == self._structured
        ordinal = sum(1 for o in self._open.values() if not o.structured) + len(self._calls)
        self._open[index] = _Open(ordinal, block, structured)
        if structured:
            return []
        return [ToolCallStart(index=ordinal, id=block.id, name=block.name)]

    def _delta(self, index: int, delta: _Delta) -> list[StreamChunk]:
        if delta.type == "text_delta" and delta.text:
            self._text.append(delta.text)
            return [TextDelta(text=delta.text)]
        call = self._open.get(index)
        if delta.type != "input_json_delta" or call is None or not delta.partial_json:
            return []
        if call.structured:
            self._text.append(delta.partial_json)
            return [TextDelta(text=delta.partial_json)]
        call.arguments.append(delta.partial_json)
        return [ToolCallDelta(index=call.ordinal, arguments=delta.partial_json)]

    def _stop(self, index: int) -> list[StreamChunk]:
        call = self._open.pop(index, None)
        if call is None or call.structured:
            return []
        done = ToolCall(id=call.id, name=call.name, arguments="".join(call.arguments) or "{}")
        self._calls.append(done)
        return [ToolCallEnd(index=call.ordinal, call=done)]

    def _message_delta(self, wire: _Event) -> list[StreamChunk]:
        if wire.delta is not None and wire.delta.stop_reason is not None:
            self._raw_finish = wire.delta.stop_reason
        if wire.usage is None:
            return []
        self._usage = Usage(
            input_tokens=self._usage.input_tokens or wire.usage.input_tokens,
            output_tokens=wire.usage.output_tokens,
            cached_input_tokens=self._usage.cached_input_tokens,
        )
        return [UsageChunk(usage=self._usage)]

    def result(self) -> ChatResult:
        """The assembled answer."""
        return ChatResult(
            text="".join(self._text),
            tool_calls=list(self._calls),
            finish_reason=finish_reason(self._raw_finish, self._structured, self._calls),
            usage=self._usage,
            response_id=self._id or None,
            model=self._model,
            provider=self.provider,
            raw_finish_reason=self._raw_finish,
        )
