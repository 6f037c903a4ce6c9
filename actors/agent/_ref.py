"""``AgentRef``: the typed handle of a running agent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from actors.agent._structured import schema_for
from actors.agent.messages import (
    AgentInfo,
    DescribeAgent,
    Generate,
    GenerateResult,
    MemoryTarget,
    StreamGenerate,
    StructuredOutput,
)
from actors.llm.messages import ChatMessage, UserMessage
from runtime import ActorRef, StreamCall

__all__ = ["AgentRef"]

T = TypeVar("T")


def _options(
    messages: str | Sequence[ChatMessage],
    *,
    thread: str | None,
    resource: str | None,
    run_id: str | None,
    max_steps: int | None,
    output: type[Any] | dict[str, Any] | None,
    request_context: dict[str, Any] | None,
) -> dict[str, Any]:
    if (thread is None) != (resource is None):
        raise ValueError("memory: give both `thread` and `resource`, or neither")
    chat = [UserMessage(content=messages)] if isinstance(messages, str) else list(messages)
    return {
        "messages": chat,
        "run_id": run_id or uuid.uuid4().hex,
        "memory": None if thread is None else MemoryTarget(thread=thread, resource=resource or ""),
        "max_steps": max_steps,
        "structured_output": None
        if output is None
        else StructuredOutput(schema=schema_for(output)),
        "request_context": dict(request_context or {}),
    }


class AgentRef:
    """A handle to a running agent actor."""

    __slots__ = ("ref",)

    def __init__(self, ref: ActorRef) -> None:
        self.ref = ref

    @property
    def name(self) -> str:
        """The agent's name."""
        return self.ref.name

    async def info(self) -> AgentInfo:
        """The agent's name, instructions, model and tools (``ActorStopped`` if stopped)."""
        info: AgentInfo = await self.ref.ask(DescribeAgent())
        return info

    async def generate(
        self,
        messages: str | Sequence[ChatMessage],
        *,
        thread: str | None = None,
        resource: str | None = None,
        run_id: str | None = None,
        max_steps: int | None = None,
        output: type[Any] | dict[str, Any] | None = None,
        request_context: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors ActorRef.ask
    ) -> GenerateResult:
        """Run one turn and return its result. With ``thread`` and ``resource`` the turn reads
        and extends that conversation; ``run_id`` names the turn (retrying with the same one
        never duplicates stored messages); ``output`` (a Struct type or a JSON Schema) asks
        for structured output in ``result.object``.

        Failure: the provider's typed error, ``StructuredOutputError``, or ``AskTimeout``.
        Cancellation cancels the turn; its completed steps are stored.
        """
        fields = _options(
            messages,
            thread=thread,
            resource=resource,
            run_id=run_id,
            max_steps=max_steps,
            output=output,
            request_context=request_context,
        )
        result: GenerateResult = await self.ref.ask(Generate(**fields), timeout=timeout)
        if isinstance(output, type) and result.object is not None:
            parsed = msgspec.convert(result.object, output)
            return msgspec.structs.replace(result, object=parsed)
        return result

    def stream(
        self,
        messages: str | Sequence[ChatMessage],
        *,
        thread: str | None = None,
        resource: str | None = None,
        run_id: str | None = None,
        max_steps: int | None = None,
        output: type[Any] | dict[str, Any] | None = None,
        request_context: dict[str, Any] | None = None,
    ) -> StreamCall:
        """Run one turn, yielding its ``AgentChunk`` values as they are produced (options as
        for ``generate``): ``async with agent.stream(...) as chunks: async for c in chunks``
        or simply ``async for c in agent.stream(...)``. Leaving the block or the loop early
        cancels the turn: the model call stops and the completed steps plus the partial text
        are stored. A failed turn sends an ``AgentError`` chunk and then raises its error
        from the iterator.
        """
        fields = _options(
            messages,
            thread=thread,
            resource=resource,
            run_id=run_id,
            max_steps=max_steps,
            output=output,
            request_context=request_context,
        )
        return self.ref.stream(StreamGenerate(**fields))
