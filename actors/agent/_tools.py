"""The tools an agent offers its model: tool actors, other agents, working memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.trace import NoOpTracer, Status, StatusCode, Tracer

from actors.agent._loop import ToolRunner
from actors.agent.messages import Generate, GenerateResult, ToolResultRecord
from actors.llm.messages import ToolCall, ToolDefinition, UserMessage
from actors.tools import Tool, ToolRef
from runtime import ActorError, ActorRef, NameTaken

if TYPE_CHECKING:
    from actors.agent.spec import Agent
    from runtime import Context

__all__ = [
    "WORKING_MEMORY_TOOL",
    "agent_definition",
    "agent_runner",
    "attach_agent",
    "attach_tool",
    "tool_failed",
    "tool_runner",
    "tool_succeeded",
    "traced",
]

WORKING_MEMORY_TOOL = ToolDefinition(
    name="updateWorkingMemory",
    description=(
        "Replace the working memory with its updated content (keep the template's structure). "
        "Call it whenever you learn something worth remembering about the user."
    ),
    parameters={
        "type": "object",
        "properties": {"memory": {"type": "string", "description": "the whole new content"}},
        "required": ["memory"],
    },
)


def agent_definition(agent: Agent) -> ToolDefinition:
    """How a model sees another agent it may delegate to."""
    return ToolDefinition(
        name=agent.name,
        description=agent.description or f"Ask the agent {agent.name} to handle a request.",
        parameters={
            "type": "object",
            "properties": {"prompt": {"type": "string", "description": "what to ask the agent"}},
            "required": ["prompt"],
        },
    )


async def _find_or_spawn(ctx: Context, name: str, kind: str, spawn: Any) -> tuple[ActorRef, bool]:
    """The running actor ``name`` and whether this call spawned it."""
    found = ctx.lookup(name, kind=kind)
    if found is not None:
        return found, False
    try:
        ref: ActorRef = await spawn()
    except NameTaken:
        again = ctx.lookup(name, kind=kind)
        if again is None:
            raise
        return again, False
    return ref, True


async def _runs(ref: ActorRef, tool: Tool) -> bool:
    """Whether the tool actor ``ref`` describes itself as ``tool`` does."""
    try:
        return bool(await ToolRef(ref).info() == tool.info)
    except ActorError:
        return False


async def attach_tool(ctx: Context, tool: Tool) -> ToolRef:
    """The running actor of ``tool`` (spawned as a child of the agent when none runs).

    An ``inline`` tool runs in the agent's task when the actor runs this very tool (spawned
    here, or describing itself as ``tool`` does).
    """

    async def spawn() -> ActorRef:
        handle: ToolRef = await tool.spawn_in(ctx)
        return handle.ref

    ref, spawned = await _find_or_spawn(ctx, tool.id, "tool", spawn)
    same = tool.inline and (spawned or await _runs(ref, tool))
    return ToolRef(ref, inline=tool if same else None)


async def attach_agent(ctx: Context, agent: Agent) -> ActorRef:
    """The running actor of ``agent`` (spawned as a child when none runs)."""

    async def spawn() -> ActorRef:
        return (await agent.spawn_in(ctx)).ref

    ref, _ = await _find_or_spawn(ctx, agent.name, "agent", spawn)
    return ref


def tool_failed(call: ToolCall, args: Any, error: str) -> ToolResultRecord:
    """An error result for ``call``, worded for the model to read and correct."""
    return ToolResultRecord(
        tool_call_id=call.id, tool_name=call.name, args=args, ok=False, error=error
    )


def tool_succeeded(call: ToolCall, args: Any, result: Any) -> ToolResultRecord:
    """The successful result of ``call``."""
    return ToolResultRecord(tool_call_id=call.id, tool_name=call.name, args=args, result=result)


def traced(tracer: Tracer, name: str, run: ToolRunner) -> ToolRunner:
    """``run`` inside an ``execute_tool {name}`` span (OTel GenAI conventions); ``run``
    itself when ``tracer`` makes no spans (tracing off)."""
    if isinstance(tracer, NoOpTracer):
        return run

    async def call(tool_call: ToolCall, args: Any) -> ToolResultRecord:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": tool_call.id,
        }
        with tracer.start_as_current_span(f"execute_tool {name}", attributes=attributes) as span:
            result = await run(tool_call, args)
            if not result.ok:
                span.set_status(Status(StatusCode.ERROR, result.error))
                span.set_attribute("error.type", "tool_error")
            return result

    return call


def tool_runner(ref: ToolRef, timeout: float | None, context: dict[str, Any]) -> ToolRunner:
    """Runs calls on a tool actor; a crashed or silent actor becomes an error result."""

    async def run(call: ToolCall, args: Any) -> ToolResultRecord:
        outcome = await ref.execute(args, call_id=call.id, request_context=context, timeout=timeout)
        return ToolResultRecord(
            tool_call_id=call.id,
            tool_name=call.name,
            args=args,
            result=outcome.value,
            ok=outcome.ok,
            error=None if outcome.error is None else outcome.error.message,
        )

    return run


def agent_runner(ref: ActorRef, run_id: str, context: dict[str, Any]) -> ToolRunner:
    """Delegates a call to another agent; its failure becomes an error result."""

    async def run(call: ToolCall, args: Any) -> ToolResultRecord:
        prompt = args.get("prompt") if isinstance(args, dict) else None
        if not isinstance(prompt, str) or not prompt:
            return tool_failed(call, args, "prompt: required, a non-empty string")
        message = Generate(
            messages=[UserMessage(content=prompt)],
            run_id=f"{run_id}.{call.id}",
            request_context=context,
        )
        try:
            result: GenerateResult = await ref.ask(message)
        except Exception as exc:
            return tool_failed(
                call,
                args,
                f"Agent {call.name} failed: {type(exc).__name__}: {exc}",
            )
        return tool_succeeded(call, args, {"text": result.text})

    return run
