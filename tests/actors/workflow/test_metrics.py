"""Run metrics: active runs, executions by the status they stopped in, their durations."""

from __future__ import annotations

from typing import Any

import trio
from opentelemetry.sdk.metrics.export import HistogramDataPoint, NumberDataPoint

from runtime.testing import TestRuntime, open_test_runtime
from tests.actors.workflow._flows import held, suspends_when_negative

FLOW = suspends_when_negative("measured")


def _points(t: TestRuntime) -> dict[str, list[Any]]:
    data = t.metrics.get_metrics_data()
    assert data is not None
    return {
        m.name: list(m.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name.startswith("workflow.")
    }


async def test_runs_are_counted_by_the_status_they_stopped_in() -> None:
    async with open_test_runtime() as t:
        wf = await t.rt.spawn(FLOW)
        await wf.start({"value": 1})
        waiting = await wf.start({"value": -1})
        await wf.resume(waiting.run_id, {})
        points = _points(t)
    by_status = {
        (p.attributes or {})["workflow.run.status"]: p.value
        for p in points["workflow.runs"]
        if isinstance(p, NumberDataPoint)
    }
    assert by_status == {"success": 2, "suspended": 1}  # the resumed run counts again
    (active,) = points["workflow.runs.active"]
    assert active.value == 0 and active.attributes == {"workflow.id": "measured"}
    durations = [p for p in points["workflow.run.duration"] if isinstance(p, HistogramDataPoint)]
    assert sum(p.count for p in durations) == 3 and all(p.sum > 0 for p in durations)


async def test_an_active_run_is_counted_until_it_stops() -> None:
    gate = trio.Event()
    flow = held("held", gate)
    async with open_test_runtime() as t:
        wf = await t.rt.spawn(flow)
        run_id = await wf.start_async({"value": 1})
        assert [p.value for p in _points(t)["workflow.runs.active"]] == [1]
        gate.set()
        await wf.wait(run_id)
        assert [p.value for p in _points(t)["workflow.runs.active"]] == [0]
