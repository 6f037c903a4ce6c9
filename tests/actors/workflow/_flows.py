"""One-step workflows shared by the tests of runs' lifecycle (limits, retention, metrics)."""

from __future__ import annotations

import msgspec
import trio

from actors.workflow import RunNotFound, StepContext, Workflow, WorkflowRef, step


class Value(msgspec.Struct):
    value: int


def held(id: str, gate: trio.Event, started: list[str] | None = None) -> Workflow:
    """A step that notes its run id in ``started`` and waits for ``gate``; outputs its input."""

    async def hold(ctx: StepContext[Value]) -> Value:
        if started is not None:
            started.append(ctx.run_id)
        await gate.wait()
        return ctx.input_data

    return Workflow(id, Value, Value).then(step("hold", Value, Value, hold)).commit()


def suspends_when_negative(id: str) -> Workflow:
    """A step that suspends on a negative value until resumed, then adds one."""

    async def gate(ctx: StepContext[Value]) -> Value:
        if ctx.input_data.value < 0 and ctx.resume_data is None:
            await ctx.suspend({"reason": "negative"})
        return Value(ctx.input_data.value + 1)

    return Workflow(id, Value, Value).then(step("gate", Value, Value, gate)).commit()


async def known(wf: WorkflowRef, run_id: str) -> bool:
    """Whether the workflow knows the run (active, or saved)."""
    try:
        await wf.get_run(run_id)
    except RunNotFound:
        return False
    return True
