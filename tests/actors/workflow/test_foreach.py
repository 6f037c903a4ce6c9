"""``foreach``: Mastra's per-item progress events, and progress that survives a restart."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import trio

from actors.stores import SqliteStore
from actors.workflow import StepContext, StoreSnapshots, Workflow, step
from actors.workflow.messages import RunEvent
from runtime import (
    ActorRef,
    Mastra,
    RuntimeConfig,
    RuntimeSection,
    SupervisionConfig,
    TelemetryConfig,
    open_runtime,
)


class Value(msgspec.Struct):
    value: int


def _double(ctx: StepContext[Value]) -> Value:
    if ctx.input_data.value < 0:
        raise ValueError("negative")
    return Value(ctx.input_data.value * 2)


async def _events(wf: Any, data: Any) -> list[RunEvent]:
    events: list[RunEvent] = []
    async with wf.stream(data) as stream:
        async for event in stream:
            events.append(event)
    return events


async def test_each_item_sends_a_progress_event(rt: Mastra) -> None:
    each = step("double", Value, Value, _double)
    flow = Workflow("each", list[Value], list[Value]).foreach(each, concurrency=1).commit()
    wf = await rt.spawn(flow)
    events = await _events(wf, [{"value": v} for v in (1, 2, 3)])
    progress = [e.payload for e in events if e.type == "workflow-step-progress"]
    assert progress == [
        {
            "id": "double",
            "completedCount": i + 1,
            "totalCount": 3,
            "currentIndex": i,
            "iterationStatus": "success",
            "iterationOutput": {"value": 2 * (i + 1)},
        }
        for i in range(3)
    ]
    types = [e.type for e in events]
    assert types[:2] == ["workflow-start", "workflow-step-start"]
    assert types[-2:] == ["workflow-step-result", "workflow-finish"]
    failing = await _events(wf, [{"value": 1}, {"value": -1}, {"value": 3}])
    statuses = [e.payload["iterationStatus"] for e in failing if e.type == "workflow-step-progress"]
    assert statuses == ["success", "failed"]
    assert failing[-1].payload["workflowStatus"] == "failed"
    assert "failed on item 1" in failing[-1].payload["error"]


async def test_a_finished_foreach_keeps_each_output_once(rt: Mastra) -> None:
    each = step("double", Value, Value, _double)
    flow = Workflow("once", list[Value], list[Value]).foreach(each, concurrency=4).commit()
    wf = await rt.spawn(flow)
    result = await wf.start([{"value": v} for v in range(20)])
    outputs = [{"value": 2 * v} for v in range(20)]
    assert result.status == "success" and result.result == outputs
    snapshot = await wf.get_run(result.run_id)
    assert snapshot.context["double"].output == outputs
    node = snapshot.nodes["double"]
    assert node.output is None and node.done == {}  # no copies of what the record holds


def _flow(completed: Counter[int], gate: trio.Event) -> Workflow:
    async def slow(ctx: StepContext[Value]) -> Value:
        index = ctx.input_data.value
        if index >= 6:
            await gate.wait()
        await trio.sleep(0.001)
        completed[index] += 1
        return Value(index * 10)

    each = step("slow", Value, Value, slow)
    return Workflow("progress", list[Value], list[Value]).foreach(each, concurrency=2).commit()


async def _stored_done(store: ActorRef, run_id: str) -> int:
    snapshot = await StoreSnapshots(store).load("progress", run_id)
    node = None if snapshot is None else snapshot.nodes.get("slow")
    return 0 if node is None else len(node.done)


async def test_a_restart_mid_foreach_reruns_no_finished_item(tmp_path: Path) -> None:
    completed: Counter[int] = Counter()
    quick_stop = RuntimeSection(supervision=SupervisionConfig(grace=0.2))  # steps hang on a gate
    config = RuntimeConfig(runtime=quick_stop, telemetry=TelemetryConfig(enabled=False))
    store = functools.partial(SqliteStore, str(tmp_path / "wf.db"))
    first, second = trio.Event(), trio.Event()
    async with open_runtime(config) as rt:
        ref = await rt.spawn(store, name="store", kind="store")
        wf = await rt.spawn(_flow(completed, first).deploy(store="store"))
        run_id = await wf.start_async([{"value": i} for i in range(10)])
        with trio.fail_after(10):  # items 0-5 finish; 6 and 7 hold both workers
            while await _stored_done(ref, run_id) < 6:
                await trio.sleep(0.01)
    assert completed == dict.fromkeys(range(6), 1)
    second.set()
    async with open_runtime(config) as rt:
        await rt.spawn(store, name="store", kind="store")
        wf = await rt.spawn(_flow(completed, second).deploy(store="store"))
        with trio.fail_after(10):
            result = await wf.wait(run_id)
    assert result.status == "success"
    assert result.result == [{"value": i * 10} for i in range(10)]
    assert completed == dict.fromkeys(range(10), 1)


async def test_cancel_stops_every_running_item_promptly(rt: Mastra) -> None:
    running: list[int] = []
    cancelled: list[int] = []

    async def forever(ctx: StepContext[Value]) -> Value:
        running.append(ctx.input_data.value)
        try:
            await trio.sleep_forever()
        finally:
            cancelled.append(ctx.input_data.value)
        raise AssertionError("unreachable")

    each = step("forever", Value, Value, forever)
    flow = Workflow("stuck", list[Value], list[Value]).foreach(each, concurrency=4).commit()
    wf = await rt.spawn(flow)
    run_id = await wf.start_async([{"value": i} for i in range(10)])
    with trio.fail_after(5):
        while len(running) < 4:
            await trio.sleep(0.01)
    with trio.fail_after(1):
        result = await wf.cancel(run_id)
    assert result.status == "canceled" and result.steps["forever"].status == "canceled"
    assert sorted(cancelled) == sorted(running) == [0, 1, 2, 3]
