"""``max_active_runs``: starts beyond the limit wait for a run to end before they are
acknowledged, and a start given up while waiting starts nothing."""

from __future__ import annotations

import msgspec
import pytest
import trio

from actors.workflow import StepContext, Workflow, step
from runtime import Mastra


class Value(msgspec.Struct):
    value: int


async def test_starts_beyond_the_limit_wait_for_a_run_to_end(rt: Mastra) -> None:
    gate = trio.Event()

    async def held(ctx: StepContext[Value]) -> Value:
        await gate.wait()
        return ctx.input_data

    flow = Workflow("held", Value, Value).then(step("hold", Value, Value, held)).commit()
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
    flow = Workflow("limits", Value, Value).then(step("s", Value, Value, lambda c: c.input_data))
    with pytest.raises(ValueError, match="max_active_runs must be >= 1"):
        flow.commit().deploy(max_active_runs=0)
