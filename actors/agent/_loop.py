"""The tool loop of one turn: model call, parallel tool calls, again, up to ``max_steps``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import trio

from actors.agent.messages import (
    AgentChunk,
    StepFinish,
    StepResult,
    StepStart,
    TextEnd,
    TextStart,
    TextStreamDelta,
    ToolCallChunk,
    ToolCallRecord,
    ToolResultChunk,
    ToolResultRecord,
)
from actors.llm import ModelRouter
from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ChatRequest,
    ChatResult,
    StreamChunk,
    TextDelta,
    ToolCall,
    ToolCallEnd,
    ToolMessage,
    Usage,
)

__all__ = ["Emit", "ToolRunner", "Turn", "run_loop", "tool_message"]

Emit = Callable[[AgentChunk], Awaitable[None]]
ToolRunner = Callable[[ToolCall, Any], Awaitable[ToolResultRecord]]
"""Runs one tool call with its decoded arguments; never raises for a failed call."""


class Turn:
    """The state of a running turn: the prompt, what the turn added, steps and usage.

    ``added`` only ever holds whole steps (an assistant message followed by the results of
    all its tool calls), so it is a consistent conversation at any moment; ``partial_text``
    is the text of the step in flight.
    """

    def __init__(self, run_id: str, prompt: list[ChatMessage]) -> None:
        self.run_id = run_id
        self.prompt = prompt
        self.added: list[ChatMessage] = []
        self.steps: list[StepResult] = []
        self.usage = Usage()
        self.partial_text = ""
        self.last: ChatResult | None = None

    def conversation(self) -> list[ChatMessage]:
        """The messages of the next model call."""
        return [*self.prompt, *self.added]


def tool_message(result: ToolResultRecord) -> ToolMessage:
    """The chat message that tells the model a tool call's outcome."""
    if result.ok:
        content = msgspec.json.encode(result.result).decode()
    else:
        content = result.error or "the tool failed"
    return ToolMessage(
        tool_call_id=result.tool_call_id,
        content=content,
        name=result.tool_name,
        is_error=not result.ok,
    )


class _Forwarder:
    """Turns provider chunks into agent chunks for one step."""

    def __init__(self, turn: Turn, step: int, emit: Emit) -> None:
        self.turn = turn
        self.emit = emit
        self.text_id = f"{turn.run_id}-text-{step}"
        self.started = False

    async def __call__(self, chunk: StreamChunk) -> None:
        run_id = self.turn.run_id
        match chunk:
            case TextDelta(text=text):
                if not self.started:
                    self.started = True
                    await self.emit(TextStart(run_id=run_id, id=self.text_id))
                self.turn.partial_text += text
                await self.emit(TextStreamDelta(run_id=run_id, id=self.text_id, text=text))
            case ToolCallEnd(call=call):
                await self.close()
                record = ToolCallRecord(
                    tool_call_id=call.id, tool_name=call.name, args=_args_or_raw(call)
                )
                await self.emit(ToolCallChunk(run_id=run_id, call=record))
            case _:
                return

    async def close(self) -> None:
        if self.started:
            self.started = False
            await self.emit(TextEnd(run_id=self.turn.run_id, id=self.text_id))


def _args_or_raw(call: ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except ValueError:
        return call.arguments


async def _call_model(
    model: ModelRouter, request: ChatRequest, turn: Turn, step: int, emit: Emit | None
) -> ChatResult:
    turn.partial_text = ""
    if emit is None:
        result = await model.chat(request)
        turn.partial_text = result.text
        return result
    forward = _Forwarder(turn, step, emit)
    result = await model.stream(request, forward)
    await forward.close()
    return result


async def _run_tools(
    calls: list[ToolCall], runners: dict[str, ToolRunner], turn: Turn, emit: Emit | None
) -> list[ToolResultRecord]:
    results: list[ToolResultRecord | None] = [None] * len(calls)

    async def one(index: int, call: ToolCall) -> None:
        try:
            args = call.parsed_arguments()
        except ValueError as exc:
            result = ToolResultRecord(
                tool_call_id=call.id,
                tool_name=call.name,
                args=call.arguments,
                ok=False,
                error=f"{exc}. Call the tool again with valid JSON arguments.",
            )
        else:
            runner = runners.get(call.name)
            if runner is None:
                result = ToolResultRecord(
                    tool_call_id=call.id,
                    tool_name=call.name,
                    args=args,
                    ok=False,
                    error=f"Tool {call.name} does not exist. Available: {', '.join(runners)}",
                )
            else:
                result = await runner(call, args)
        results[index] = result
        if emit is not None:
            await emit(ToolResultChunk(run_id=turn.run_id, result=result))

    if len(calls) == 1:  # no task needed for a lone call
        await one(0, calls[0])
    elif calls:
        async with trio.open_nursery() as nursery:
            for index, call in enumerate(calls):
                nursery.start_soon(one, index, call)
    return [r for r in results if r is not None]


async def run_loop(
    model: ModelRouter,
    base: ChatRequest,
    *,
    runners: dict[str, ToolRunner],
    max_steps: int,
    turn: Turn,
    emit: Emit | None,
) -> ChatResult:
    """Run model calls until one answers without tool calls or ``max_steps`` calls were made
    (the tool calls of the last allowed step still run). Returns the last model answer.

    Each step's tool calls run concurrently; ``emit`` (None: no streaming) gets the chunks
    as they are produced. Failure: the provider's error propagates; a failed tool call is a
    result the model reads. Cancellation: stops the model call and the tools in flight;
    ``turn`` then holds the completed steps and the partial text.
    """
    result = ChatResult()
    for step in range(max_steps):
        if emit is not None:
            await emit(StepStart(run_id=turn.run_id, step=step))
        request = msgspec.structs.replace(base, messages=turn.conversation())
        result = await _call_model(model, request, turn, step, emit)
        turn.usage = turn.usage + result.usage
        turn.last = result
        results = await _run_tools(result.tool_calls, runners, turn, emit)
        assistant = AssistantMessage(content=result.text, tool_calls=list(result.tool_calls))
        turn.added.extend([assistant, *(tool_message(r) for r in results)])
        turn.partial_text = ""
        record = StepResult(
            step=step,
            text=result.text,
            tool_calls=[
                ToolCallRecord(tool_call_id=r.tool_call_id, tool_name=r.tool_name, args=r.args)
                for r in results
            ],
            tool_results=results,
            finish_reason=result.finish_reason,
            usage=result.usage,
            model=result.model,
        )
        turn.steps.append(record)
        more = bool(result.tool_calls) and step + 1 < max_steps
        if emit is not None:
            await emit(StepFinish(run_id=turn.run_id, step=record, is_continued=more))
        if not more:
            break
    return result
