"""Agents and tools used directly as steps, as Mastra's ``createStep(agent | tool)`` does.

```python
flow = Workflow("answer", Question, AgentOutput)
flow.map(lambda ctx: {"prompt": ctx.input_data["question"]}).then(writer_agent).commit()
```

An agent step takes ``{prompt}`` and outputs ``{text}`` (or, with ``output=``, the structured
object); a tool step takes the tool's input schema and outputs the tool's output.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from actors.workflow._errors import WorkflowDefinitionError
from actors.workflow.step import Step, StepContext

if TYPE_CHECKING:
    from actors.agent import Agent, AgentRef
    from actors.tools import Tool, ToolResult

__all__ = ["AgentInput", "AgentOutput", "agent_step", "as_step", "tool_step"]


class AgentInput(msgspec.Struct, frozen=True, kw_only=True):
    """The input of an agent step: the prompt of one turn."""

    prompt: str


class AgentOutput(msgspec.Struct, frozen=True, kw_only=True):
    """The output of an agent step: the turn's final text."""

    text: str


def agent_step(
    agent: Agent | AgentRef,
    *,
    id: str | None = None,
    output: type[Any] | None = None,
    retries: int = 0,
) -> Step:
    """A step that runs one turn of ``agent`` with the input's ``prompt``.

    The step id defaults to the agent's name. An ``Agent`` spec is reached through the
    runtime's registry (its actor must be running, kind ``agent``); an ``AgentRef`` is used as
    it is. The output is ``{"text": ...}``, or the structured object of type ``output``.
    Failure: the turn's error fails the step (and is retried per ``retries``); cancelling the
    run cancels the turn.
    """
    from actors.agent import AgentRef

    name = agent.name
    fixed = agent if isinstance(agent, AgentRef) else None

    async def execute(ctx: StepContext[AgentInput]) -> Any:
        ref = fixed if fixed is not None else AgentRef(ctx.agent(name))
        result = await ref.generate(ctx.input_data.prompt, output=output)
        if output is not None:
            return result.object
        return AgentOutput(text=result.text)

    description = getattr(agent, "description", "") or f"One turn of the agent {name!r}"
    return Step(
        id=id or name,
        input_schema=AgentInput,
        output_schema=AgentOutput if output is None else output,
        execute=execute,
        retries=retries,
        description=description,
    )


def tool_step(tool: Tool, *, id: str | None = None, retries: int = 0) -> Step:
    """A step that runs ``tool`` with the step's input.

    The input schema is the tool's input Struct, the output its return type. The call goes to
    the running tool actor of that id when there is one (its concurrency and telemetry
    apply); otherwise the tool runs in the step (blocking functions in a thread, at most
    ``tool.concurrency`` at a time). A tool error result fails the step with the tool's
    message. Cancelling the run cancels the call.
    """
    limiters: list[trio.CapacityLimiter] = []

    async def execute(ctx: StepContext[Any]) -> Any:
        args = msgspec.to_builtins(ctx.input_data)
        actor = ctx.runtime.lookup(tool.id, kind="tool")
        result: ToolResult
        if actor is not None:
            result = await ctx.tool(tool.id).execute(args)
        else:
            if not limiters:
                limiters.append(trio.CapacityLimiter(tool.concurrency))
            result = await tool.call(args, limiter=limiters[0])
        if not result.ok:
            message = result.error.message if result.error is not None else "tool failed"
            raise RuntimeError(message)
        return result.value

    output = Any if tool.output_type in (None, inspect.Signature.empty) else tool.output_type
    return Step(
        id=id or tool.id,
        input_schema=tool.input_type,
        output_schema=output,
        execute=execute,
        retries=retries,
        description=tool.description,
    )


def as_step(item: Any) -> Step:
    """``item`` as a step: a ``Step`` as it is, a ``Tool`` through ``tool_step``, an ``Agent``
    or ``AgentRef`` through ``agent_step``. Anything else raises ``WorkflowDefinitionError``."""
    from actors.agent import Agent, AgentRef
    from actors.tools import Tool

    if isinstance(item, Step):
        return item
    if isinstance(item, Tool):
        return tool_step(item)
    if isinstance(item, Agent | AgentRef):
        return agent_step(item)
    raise WorkflowDefinitionError(
        f"cannot use {type(item).__name__} {item!r} as a step: "
        "give a Step, a Workflow, an Agent, an AgentRef or a Tool"
    )
