"""OpenAI-compatible streaming: ``chat.completion.chunk`` events assembled into chunks."""

from __future__ import annotations

import msgspec

from actors.llm._errors import ProtocolError
from actors.llm._openai_wire import (
    WireChoice,
    WireFunction,
    WireToolCall,
    completion_decoder,
    finish_reason,
    openai_error_body,
    usage_of,
)
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

__all__ = ["OpenAIAssembler"]


class _Partial:
    __slots__ = ("arguments", "id", "name", "ordinal")

    def __init__(self, ordinal: int, call_id: str, name: str) -> None:
        self.ordinal = ordinal
        self.id = call_id
        self.name = name
        self.arguments: list[str] = []

    def call(self) -> ToolCall:
        return ToolCall(id=self.id, name=self.name, arguments="".join(self.arguments))


class OpenAIAssembler:
    """Assembles ``chat.completion.chunk`` events (text, tool calls by index, usage)."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.done = False
        self._model = model
        self._id = ""
        self._text: list[str] = []
        self._calls: dict[int, _Partial] = {}
        self._ended = False
        self._raw_finish: str | None = None
        self.usage_of = Usage()

    def feed(self, event: ServerSentEvent) -> list[StreamChunk]:
        """Chunks for one SSE event; ``data: [DONE]`` completes the stream."""
        if event.data.startswith("[DONE]"):
            self.done = True
            return self._end_calls()
        try:
            wire = completion_decoder.decode(event.data)
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"malformed stream chunk: {exc}", provider=self.provider) from None
        if wire.error is not None:
            raise openai_error_body(wire.error, self.provider, None)
        self._id = wire.id or self._id
        self._model = wire.model or self._model
        out: list[StreamChunk] = []
        for choice in wire.choices:
            if choice.index == 0:
                self._choice(choice, out)
        if wire.usage is not None:
            self.usage_of = usage_of(wire.usage)
            out.append(UsageChunk(usage=self.usage_of))
        return out

    def _choice(self, choice: WireChoice, out: list[StreamChunk]) -> None:
        delta = choice.delta
        if delta is not None:
            if delta.content:
                self._text.append(delta.content)
                out.append(TextDelta(text=delta.content))
            for wire_call in delta.tool_calls or ():
                self._tool_delta(wire_call, out)
        if choice.finish_reason is not None:
            self._raw_finish = choice.finish_reason
            out.extend(self._end_calls())

    def _tool_delta(self, wire: WireToolCall, out: list[StreamChunk]) -> None:
        fn = wire.function or WireFunction()
        partial = self._calls.get(wire.index)
        if partial is None:
            ordinal = len(self._calls)
            partial = _Partial(ordinal, wire.id or f"call_{ordinal}", fn.name or "")
            self._calls[wire.index] = partial
            out.append(ToolCallStart(index=ordinal, id=partial.id, name=partial.name))
        if fn.arguments:
            partial.arguments.append(fn.arguments)
            out.append(ToolCallDelta(index=partial.ordinal, arguments=fn.arguments))

    def _end_calls(self) -> list[StreamChunk]:
        if self._ended:
            return []
        self._ended = True
        ordered = sorted(self._calls.values(), key=lambda p: p.ordinal)
        return [ToolCallEnd(index=p.ordinal, call=p.call()) for p in ordered]

    def result(self) -> ChatResult:
        """The assembled answer."""
        ordered = sorted(self._calls.values(), key=lambda p: p.ordinal)
        return ChatResult(
            text="".join(self._text),
            tool_calls=[p.call() for p in ordered],
            finish_reason=finish_reason(self._raw_finish),
            usage=self.usage_of,
            response_id=self._id or None,
            model=self._model,
            provider=self.provider,
            raw_finish_reason=self._raw_finish,
        )
