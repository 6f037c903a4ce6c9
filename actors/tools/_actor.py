"""The tool actor and ``ToolRef``, the typed handle agents and the server use."""

from __future__ import annotations

import logging

import trio

from actors.tools._tool import Tool
from actors.tools.messages import DescribeTool, ExecuteTool, ToolError, ToolInfo, ToolResult
from runtime import Actor, ActorCrashed, ActorRef, ActorStopped, AskTimeout, UnhandledMessage

__all__ = ["ToolActor", "ToolRef"]

logger = logging.getLogger(__name__)


class ToolActor(Actor):
    """Runs one tool; handles up to the tool's ``concurrency`` calls at once."""

    def __init__(self, tool: Tool) -> None:
        self.tool = tool

    async def on_start(self) -> None:
        self.limiter = trio.CapacityLimiter(self.tool.concurrency)

    async def receive(self, msg: ExecuteTool | DescribeTool) -> ToolResult | ToolInfo:
        match msg:
            case ExecuteTool(args=args, call_id=call_id, request_context=request_context):
                return await self.tool.call(
                    args, call_id=call_id, request_context=request_context, limiter=self.limiter
                )
            case DescribeTool():
                return self.tool.info
        raise UnhandledMessage(f"tool {self.tool.id!r} does not handle {type(msg).__name__}")


class ToolRef:
    """A handle to a running tool actor.

    With ``inline`` (the tool the actor runs, which must be ``Tool.inline``), ``execute``
    runs the call in the caller's task while the actor is alive, saving the hop to the
    actor; the outcome is the same as through the actor (see ``execute``).
    """

    __slots__ = ("inline", "ref")

    def __init__(self, ref: ActorRef, inline: Tool | None = None) -> None:
        if inline is not None and not inline.inline:
            raise ValueError(f"inline: tool {inline.id!r} may not run in the caller's task")
        self.ref = ref
        self.inline = inline

    @property
    def id(self) -> str:
        """The tool's id (its registered name)."""
        return self.ref.name

    async def info(self) -> ToolInfo:
        """The tool's description and schemas."""
        info: ToolInfo = await self.ref.ask(DescribeTool())
        return info

    async def execute(
        self,
        args: object,
        *,
        call_id: str | None = None,
        request_context: dict[str, object] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors ActorRef.ask
    ) -> ToolResult:
        """Run the tool. Never raises for a failed call: a crashed, stopped or unanswering
        tool actor becomes an ``unavailable`` or ``timeout`` error result the model can read.

        An ``inline`` tool runs in this task (the actor being alive): its calls never yield,
        so neither ``timeout`` nor the actor's concurrency limit could act on them, and an
        unexpected exception becomes the ``unavailable`` result a crash of the actor gives.
        Cancellation: a call cancelled before it starts is not run.
        """
        tool = self.inline
        if tool is not None and self.ref.alive:
            return await self._run_inline(tool, args, call_id, request_context)
        msg = ExecuteTool(args=args, call_id=call_id, request_context=dict(request_context or {}))
        try:
            result: ToolResult = await self.ref.ask(msg, timeout=timeout)
        except (ActorCrashed, ActorStopped) as exc:
            error = ToolError(kind="unavailable", message=f"Tool {self.id} is unavailable: {exc}")
            return ToolResult(tool_id=self.id, call_id=call_id, ok=False, error=error)
        except AskTimeout:
            error = ToolError(
                kind="timeout", message=f"Tool {self.id} did not answer in {timeout}s"
            )
            return ToolResult(tool_id=self.id, call_id=call_id, ok=False, error=error)
        return result

    async def _run_inline(
        self,
        tool: Tool,
        args: object,
        call_id: str | None,
        request_context: dict[str, object] | None,
    ) -> ToolResult:
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            return await tool.call(
                args, call_id=call_id, request_context=dict(request_context or {})
            )
        except Exception as exc:
            logger.exception("tool %r crashed running call %s inline", tool.id, call_id)
            crash = f"actor {tool.id!r} crashed handling ExecuteTool: {exc!r}"
            error = ToolError(kind="unavailable", message=f"Tool {tool.id} is unavailable: {crash}")
            return ToolResult(tool_id=tool.id, call_id=call_id, ok=False, error=error)
