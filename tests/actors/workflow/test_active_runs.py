"""``max_active_runs``: starts beyond the limit wait for a run to end before they are
acknowledged, and a start given up while waiting starts nothing."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from actors.workflow import (
    InvalidRunState,
    MemorySnapshots,
    RunResult,
    WorkflowRef,
)
from actors.workflow.run import WorkflowActor
from runtime import Mastra
from tests.actors.workflow._flows import held, known


async def test_starts_beyond_the_limit_wait_for_a_run_to_end(rt: Mastra) -> None:
    gate = trio.Event()
    flow = held("held", gate)
    wf = await rt.spawn(flow.deploy(max_active_runs=2))
    started = [await wf.start_async({"value": 1}), await wf.start_async({"value": 2})]
    with trio.move_on_after(0.3) as gave_up:
        await wf.start_async({"value": 3})
    assert gave_up.cancelled_caught  # not acknowledged while two runs are active
    async with trio.open_nursery() as nursery:

        async def start_third() -> None:
            started.append(await wf.start_async({"value": 4}))

        nursery.start_soon(start_third)
        await trio.sleep(0.2)
        assert len(started) == 2
        gate.set()
    results = [await wf.wait(run_id) for run_id in started]
    assert [(r.status, r.result) for r in results] == [("success", {"value": v}) for v in (1, 2, 4)]
    assert (await wf.list_runs()).total == 3  # the start given up started nothing


def test_max_active_runs_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_active_runs must be >= 1"):
        held("limits", trio.Event()).deploy(max_active_runs=0)


async def test_callers_waiting_for_runs_leave_the_actor_free(rt: Mastra) -> None:
    gate = trio.Event()
    flow = held("busy", gate)
    actor = functools.partial(WorkflowActor, max_active_runs=100)
    ref = await rt.spawn(actor, flow, None, MemorySnapshots(), name="busy", concurrency=4)
    wf = WorkflowRef(ref)
    results: list[RunResult] = []
    async with trio.open_nursery() as nursery:
        for i in range(6):  # more callers waiting for their runs than the actor has handlers
            start = functools.partial(wf.start, {"value": i}, run_id=f"r{i}")
            nursery.start_soon(_collect, results, start)
        with trio.fail_after(5):  # other requests still get through
            for i in range(6):
                while not await known(wf, f"r{i}"):
                    await trio.sleep(0.01)
            nursery.start_soon(_collect, results, functools.partial(wf.wait, "r0"))
            canceled = await wf.cancel("r5")
        assert canceled.status == "canceled"
        gate.set()
    assert sorted(r.status for r in results) == ["canceled"] + ["success"] * 6


async def _collect(results: list[RunResult], call: Callable[[], Awaitable[RunResult]]) -> None:
    results.append(await call())


async def test_a_second_start_of_an_id_waiting_for_a_slot_is_refused(rt: Mastra) -> None:
    gate = trio.Event()
    executions: list[str] = []
    outcomes: list[str] = []
    flow = held("once", gate, executions)
    wf = await rt.spawn(flow.deploy(max_active_runs=1))
    await wf.start_async({"value": 0}, run_id="first")

    async def start_x() -> None:
        try:
            await wf.start_async({"value": 1}, run_id="x")  # the first waits for the slot
            outcomes.append("started")
        except InvalidRunState as exc:
            assert "'x' was already started" in str(exc)
            outcomes.append("refused")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(start_x)
        await trio.testing.wait_all_tasks_blocked()  # it passed its checks, waits for a slot
        with trio.fail_after(5):
            await start_x()
        assert outcomes == ["refused"]
        gate.set()
    assert outcomes == ["refused", "started"]
    assert (await wf.wait("x")).status == "success"
    assert executions == ["first", "x"]
