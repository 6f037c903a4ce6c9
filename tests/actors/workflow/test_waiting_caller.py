"""A run started by a waiting caller: it outlives the caller giving up, with or without a
deadline, ``cancel`` still reaches it, and a stop of the workflow actor fails the caller
while the run waits in the store for the next start."""

from __future__ import annotations

import msgspec
import pytest
import trio

from actors.workflow import RunResult, StepContext, Workflow, step
from runtime import ActorRef, ActorStopped, Mastra


class Value(msgspec.Struct):
    value: int


def _gated(started: trio.Event, release: trio.Event) -> Workflow:
    async def gated(ctx: StepContext[Value]) -> Value:
        started.set()
        await release.wait()
        return Value(ctx.input_data.value + 1)

    async def double(ctx: StepContext[Value]) -> Value:
        return Value(ctx.input_data.value * 2)

    return (
        Workflow("gated", Value, Value)
        .then(step("gated", Value, Value, gated))
        .then(step("double", Value, Value, double))
        .commit()
    )


@pytest.mark.parametrize("give_up", ["deadline", "cancel"])
async def test_a_run_outlives_a_waiting_caller_that_gives_up(rt: Mastra, give_up: str) -> None:
    started, release = trio.Event(), trio.Event()
    wf = await rt.spawn(_gated(started, release))

    async def caller(*, task_status: trio.TaskStatus[trio.CancelScope]) -> None:
        with trio.CancelScope() as scope:
            if give_up == "deadline":
                scope.deadline = trio.current_time() + 0.2
            task_status.started(scope)
            await wf.start({"value": 1}, run_id="r1")

    async with trio.open_nursery() as nursery:
        scope = await nursery.start(caller)
        await started.wait()
        if give_up == "cancel":
            scope.cancel()
    assert scope.cancelled_caught
    assert (await wf.get_run("r1")).status == "running"
    release.set()
    with trio.fail_after(5):
        result = await wf.wait("r1")
    assert result.status == "success" and result.result == {"value": 4}
    assert result.step_execution_path == ["gated", "double"]


async def test_cancel_reaches_a_run_whose_caller_waits(rt: Mastra) -> None:
    started, never = trio.Event(), trio.Event()
    wf = await rt.spawn(_gated(started, never))
    waited: list[RunResult] = []

    async def caller() -> None:
        waited.append(await wf.start({"value": 1}, run_id="r2"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller)
        with trio.fail_after(5):
            await started.wait()
            canceled = await wf.cancel("r2")
    assert canceled.status == "canceled" and canceled.steps["gated"].status == "canceled"
    assert [r.status for r in waited] == ["canceled"]
    assert (await wf.get_run("r2")).status == "canceled"


async def test_a_stop_fails_the_waiting_caller_and_the_run_resumes_later(
    rt: Mastra, store: ActorRef
) -> None:
    started, release = trio.Event(), trio.Event()
    flow = _gated(started, release).deploy(store="store")
    wf = await rt.spawn(flow)
    failures: list[BaseException] = []

    async def caller() -> None:
        try:
            await wf.start_async({"value": 1}, run_id="r3")  # saved: it survives the stop
            await wf.wait("r3")
        except ActorStopped as exc:
            failures.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(caller)
        with trio.fail_after(5):
            await started.wait()
            await rt.stop(wf.ref)
    assert [type(e) for e in failures] == [ActorStopped]
    release.set()
    wf = await rt.spawn(flow)  # resumes the run the store still records as running
    with trio.fail_after(5):
        result = await wf.wait("r3")
    assert result.status == "success" and result.result == {"value": 4}
