"""Runs through the workflow actor: every DSL construct, suspend/resume, retries, cancel,
events, listing, and the Mastra result shape."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

from actors.stores import SqliteStore
from actors.workflow import (
    InvalidRunState,
    RunNotFound,
    RunResult,
    SchemaViolation,
    StepContext,
    Workflow,
    step,
)
from actors.workflow.messages import RunEvent, StartRun
from runtime import Mastra, RuntimeConfig, TelemetryConfig, open_runtime
from runtime.testing import open_test_runtime


class Value(msgspec.Struct):
    value: int


class Approval(msgspec.Struct):
    approved: bool
    approver: str = ""


def inc(id: str, by: int = 1, retries: int = 0) -> Any:
    return step(id, Value, Value, lambda ctx: Value(ctx.input_data.value + by), retries=retries)


async def test_three_steps_give_mastras_result_shape(rt: Mastra) -> None:
    flow = Workflow("three", Value, Value).then(inc("a")).then(inc("b", 10)).commit()
    wf = await rt.spawn(flow)
    result = await wf.start({"value": 1})
    body = result.to_mastra()
    assert body["status"] == "success" and body["result"] == {"value": 12}
    assert body["steps"]["input"] == {"value": 1}
    assert (
        body["steps"]["a"]["output"] == {"value": 2} and body["steps"]["b"]["status"] == "success"
    )
    assert body["stepExecutionPath"] == ["a", "b"] and body["runId"] == result.run_id
    again = msgspec.json.decode(msgspec.json.encode(result), type=RunResult)
    assert again == result


async def test_every_step_gets_a_span_under_the_run() -> None:
    flow = Workflow("traced", Value, Value).then(inc("a")).then(inc("b", retries=1)).commit()
    async with open_test_runtime() as t:
        wf = await t.rt.spawn(flow)
        assert (await wf.start({"value": 1})).status == "success"
        spans = {s.name: s for s in t.spans.finished()}
    a, b = spans["traced/a RunStep"], spans["traced/b RunStep"]  # inline and actor steps
    assert a.context.trace_id == b.context.trace_id
    assert a.parent is not None and b.parent is not None


async def test_bad_input_names_the_field(rt: Mastra) -> None:
    wf = await rt.spawn(Workflow("w", Value, Value).then(inc("a")).commit())
    with pytest.raises(SchemaViolation) as info:
        await wf.start({"value": "x"})
    assert info.value.field == "value" and info.value.step is None
    assert "Expected `int`, got `str`" in str(info.value)


async def test_step_output_is_validated_naming_step_and_field(rt: Mastra) -> None:
    broken = step("broken", Value, Value, lambda ctx: {"value": "nope"})
    wf = await rt.spawn(Workflow("w", Value, Value).then(broken).commit())
    result = await wf.start({"value": 1})
    assert result.status == "failed"
    assert result.error is not None and "'broken'" in result.error and "`value`" in result.error


async def test_parallel_branch_map_and_join(rt: Mastra) -> None:
    flow = (
        Workflow("w", Value, Any)
        .then(inc("a"))
        .parallel([inc("b", 10), inc("c", 100)])
        .map(lambda ctx: {"value": ctx.input_data["b"]["value"] + ctx.input_data["c"]["value"]})
        .branch(
            [
                (lambda ctx: ctx.input_data["value"] > 100, inc("big", 1000)),
                (lambda ctx: ctx.input_data["value"] <= 100, inc("small")),
            ]
        )
        .commit()
    )
    wf = await rt.spawn(flow)
    result = await wf.start({"value": 0})
    assert result.status == "success"
    assert result.result == {"big": {"value": 1112}}
    assert "small" not in result.steps


async def test_loops_and_foreach(rt: Mastra) -> None:
    flow = (
        Workflow("w", Value, list[Value])
        .dowhile(inc("up"), lambda ctx: ctx.input_data["value"] < 5)
        .dountil(inc("up2", 2), lambda ctx: ctx.input_data["value"] >= 9)
        .map(lambda ctx: [{"value": i} for i in range(ctx.input_data["value"])])
        .foreach(inc("each", 1), concurrency=3)
        .commit()
    )
    wf = await rt.spawn(flow)
    result = await wf.start({"value": 0})
    assert result.status == "success"
    assert result.result == [{"value": i + 1} for i in range(9)]


async def test_dag_runs_independent_steps_concurrently(rt: Mastra) -> None:
    running: list[str] = []
    peak = 0

    async def slow(ctx: StepContext[Value]) -> Value:
        nonlocal peak
        running.append(ctx.step_id)
        peak = max(peak, len(running))
        await trio.sleep(0.05)
        running.remove(ctx.step_id)
        return ctx.input_data

    def mk(id: str) -> Any:
        return step(id, Value, Value, slow)

    join = step(
        "d",
        dict[str, Value],
        Value,
        lambda ctx: Value(sum(v.value for v in ctx.input_data.values())),
    )
    flow = Workflow("dag", Value, Value)
    flow.add(mk("a")).add(mk("b"), depends_on=["a"]).add(mk("c"), depends_on=["a"])
    flow.add(join, depends_on=["b", "c"]).commit()
    wf = await rt.spawn(flow)
    result = await wf.start({"value": 2})
    assert result.result == {"value": 4} and peak == 2


async def test_step_concurrency_bounds_executions_across_runs(
    autojump_clock: trio.testing.MockClock, rt: Mastra
) -> None:
    running = 0
    peak = 0

    async def slow(ctx: StepContext[Value]) -> Value:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await trio.sleep(1)
        running -= 1
        return ctx.input_data

    flow = Workflow("bounded", Value, Value).then(step("slow", Value, Value, slow)).commit()
    wf = await rt.spawn(flow.deploy(step_concurrency=2))
    results: list[RunResult] = []

    async def one(i: int) -> None:
        results.append(await wf.start({"value": i}))

    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(one, i)
    assert peak == 2 and all(r.status == "success" for r in results) and len(results) == 6
    assert trio.current_time() >= 3


async def test_get_step_result_and_init_data(rt: Mastra) -> None:
    first = inc("first", 5)

    async def last(ctx: StepContext[Value]) -> Value:
        earlier = ctx.get_step_result(first)
        init = ctx.get_init_data()
        with pytest.raises(KeyError, match="'nope'"):
            ctx.get_step_result("nope")
        return Value(earlier.value * 100 + init.value)

    flow = (
        Workflow("w", Value, Value)
        .then(first)
        .then(inc("mid"))
        .then(step("last", Value, Value, last))
    )
    wf = await rt.spawn(flow.commit())
    assert (await wf.start({"value": 1})).result == {"value": 601}


async def test_suspend_resume_and_resume_schema_errors(rt: Mastra) -> None:
    async def approve(ctx: StepContext[Value]) -> Value:
        if ctx.resume_data is None:
            await ctx.suspend({"reason": "approval required"})
        return Value(ctx.input_data.value + (1 if ctx.resume_data.approved else 0))

    gate = step("gate", Value, Value, approve, resume_schema=Approval)
    wf = await rt.spawn(Workflow("w", Value, Value).then(gate).then(inc("after")).commit())
    first = await wf.start({"value": 1})
    body = first.to_mastra()
    assert body["status"] == "suspended" and body["suspended"] == [["gate"]]
    assert body["suspendPayload"] == {"gate": {"reason": "approval required"}}
    with pytest.raises(SchemaViolation) as info:
        await wf.resume(first.run_id, {"approved": "yes"}, step="gate")
    assert info.value.step == "gate" and info.value.field == "approved"
    with pytest.raises(InvalidRunState, match="not suspended"):
        await wf.resume(first.run_id, {"approved": True}, step="after")
    done = await wf.resume(first.run_id, {"approved": True, "approver": "ann"})
    assert done.status == "success" and done.result == {"value": 3}
    assert done.steps["gate"].resume_payload == {"approved": True, "approver": "ann"}
    with pytest.raises(InvalidRunState, match="This workflow run was not suspended"):
        await wf.resume(first.run_id, {"approved": True})
    with pytest.raises(RunNotFound, match="Workflow run not found"):
        await wf.resume("no-such-run", {"approved": True})


async def test_parallel_suspensions_resume_one_at_a_time(rt: Mastra) -> None:
    async def wait(ctx: StepContext[Value]) -> Value:
        if ctx.resume_data is None:
            await ctx.suspend({"step": ctx.step_id})
        return Value(ctx.resume_data["value"])

    flow = Workflow("w", Value, Any).parallel(
        [
            step("x", Value, Value, wait, resume_schema=dict[str, int]),
            step("y", Value, Value, wait, resume_schema=dict[str, int]),
        ]
    )
    wf = await rt.spawn(flow.commit())
    first = await wf.start({"value": 0})
    assert sorted(first.suspended) == [["x"], ["y"]]
    with pytest.raises(InvalidRunState, match="several steps"):
        await wf.resume(first.run_id, {"value": 1})
    half = await wf.resume(first.run_id, {"value": 1}, step="x")
    assert half.status == "suspended" and half.suspended == [["y"]]
    done = await wf.resume(first.run_id, {"value": 2}, step=["y"])
    assert done.result == {"x": {"value": 1}, "y": {"value": 2}}


async def test_nested_workflow_suspends_and_resumes_by_path(rt: Mastra) -> None:
    async def gate(ctx: StepContext[Value]) -> Value:
        if ctx.resume_data is None:
            await ctx.suspend({"need": "ok"})
        return ctx.input_data

    inner = (
        Workflow("inner", Value, Value)
        .then(inc("i1"))
        .then(step("gate", Value, Value, gate))
        .commit()
    )
    outer = Workflow("outer", Value, Value).then(inc("o1")).then(inner).then(inc("o2")).commit()
    wf = await rt.spawn(outer)
    first = await wf.start({"value": 0})
    assert first.status == "suspended" and first.suspended == [["inner", "gate"]]
    done = await wf.resume(first.run_id, {"ok": True}, step=["inner", "gate"])
    assert done.status == "success" and done.result == {"value": 3}


async def test_bail_ends_the_run(rt: Mastra) -> None:
    def stop(ctx: StepContext[Value]) -> Value:
        ctx.bail({"early": ctx.input_data.value})

    never = step("never", Value, Value, lambda ctx: pytest.fail("ran after bail"))
    flow = Workflow("w", Value, Any).then(step("stop", Value, Value, stop)).then(never).commit()
    result = await (await rt.spawn(flow)).start({"value": 7})
    assert result.status == "bailed" and result.result == {"early": 7}


async def test_retries_with_backoff_then_success_or_failure(
    autojump_clock: trio.testing.MockClock, rt: Mastra
) -> None:
    attempts: list[tuple[int, float]] = []

    async def flaky(ctx: StepContext[Value]) -> Value:
        attempts.append((ctx.retry_count, trio.current_time()))
        if ctx.retry_count < 2:
            raise ConnectionError("try again")
        return ctx.input_data

    always = step("always", Value, Value, lambda ctx: 1 / 0, retries=1)
    flow = Workflow("w", Value, Value).then(
        step("flaky", Value, Value, flaky, retries=2, retry_delay=1.0)
    )
    wf = await rt.spawn(flow.commit())
    result = await wf.start({"value": 1})
    assert result.status == "success" and result.steps["flaky"].retry_count == 2
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0
    bad_flow = Workflow("bad", Value, Value).then(always).commit()
    bad = await (await rt.spawn(bad_flow)).start({"value": 1})
    assert bad.status == "failed" and "ZeroDivisionError" in (bad.error or "")


async def test_cancel_stops_running_steps_promptly(rt: Mastra) -> None:
    started = trio.Event()
    cancelled = trio.Event()

    async def forever(ctx: StepContext[Value]) -> Value:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    wf = await rt.spawn(
        Workflow("w", Value, Value).then(step("long", Value, Value, forever)).commit()
    )
    run_id = await wf.start_async({"value": 1})
    await started.wait()
    with trio.fail_after(1):
        result = await wf.cancel(run_id)
    assert cancelled.is_set()
    assert result.status == "canceled" and result.steps["long"].status == "canceled"
    assert (await wf.get_run(run_id)).status == "canceled"


async def test_stream_events_follow_mastras_names_and_order(rt: Mastra) -> None:
    wf = await rt.spawn(Workflow("w", Value, Value).then(inc("a")).then(inc("b")).commit())
    events: list[RunEvent] = []
    async with wf.stream({"value": 1}) as stream:
        async for event in stream:
            events.append(event)
    assert [e.type for e in events] == [
        "workflow-start",
        "workflow-step-start",
        "workflow-step-result",
        "workflow-step-start",
        "workflow-step-result",
        "workflow-finish",
    ]
    assert events[2].payload["output"] == {"value": 2} and events[2].payload["stepName"] == "a"
    assert events[-1].payload["workflowStatus"] == "success"
    assert events[-1].to_mastra()["from"] == "WORKFLOW"
    assert events[-1].payload["finalWorkflowResult"] == {"value": 3}


async def test_watch_sees_a_background_run(rt: Mastra) -> None:
    gate = trio.Event()

    async def hold(ctx: StepContext[Value]) -> Value:
        await gate.wait()
        return ctx.input_data

    wf = await rt.spawn(Workflow("w", Value, Value).then(step("hold", Value, Value, hold)).commit())
    run_id = await wf.start_async({"value": 1})
    types: list[str] = []
    async with wf.watch(run_id) as events:
        gate.set()
        async for event in events:
            types.append(event.type)
    assert types[-2:] == ["workflow-step-result", "workflow-finish"]
    assert (await wf.wait(run_id)).status == "success"


async def test_sleep_waits(autojump_clock: trio.testing.MockClock, rt: Mastra) -> None:
    flow = Workflow("w", Value, Value).sleep(0.05).then(inc("a")).commit()
    wf = await rt.spawn(flow)
    before = trio.current_time()
    result = await wf.start({"value": 1})
    assert result.status == "success" and trio.current_time() - before >= 0.04
    sleep_id = next(k for k in result.steps if k.startswith("sleep"))
    assert result.steps[sleep_id].status == "success"


async def test_create_run_list_and_get(rt: Mastra) -> None:
    wf = await rt.spawn(Workflow("w", Value, Value).then(inc("a")).commit())
    run_id = await wf.create_run()
    await wf.start({"value": 1}, run_id=run_id)
    with pytest.raises(InvalidRunState, match="already started"):
        await wf.start({"value": 1}, run_id=run_id)
    for i in range(3):
        await wf.start({"value": i}, resource_id="u1")
    page = await wf.list_runs(limit=2)
    assert page.total == 4 and len(page.runs) == 2
    assert (await wf.list_runs(resource_id="u1")).total == 3
    assert (await wf.get_run(run_id)).context["a"].output == {"value": 2}
    with pytest.raises(RunNotFound):
        await wf.get_run("missing")


async def test_a_created_run_is_pending_until_started_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    flow = Workflow("w", Value, Value).then(inc("a")).commit()
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    store = functools.partial(SqliteStore, str(tmp_path / "runs.db"), synchronous="normal")
    async with open_runtime(config) as first:
        await first.spawn(store, name="store", kind="store")
        wf = await first.spawn(flow.deploy(store="store"))
        run_id = await wf.create_run()
        assert (await wf.get_run(run_id)).status == "pending"
        assert (await wf.list_runs(status="pending")).total == 1
        assert await wf.create_run(run_id) == run_id  # creating it again changes nothing
    async with open_runtime(config) as second:
        await second.spawn(store, name="store", kind="store")
        wf = await second.spawn(flow.deploy(store="store"))
        assert (await wf.get_run(run_id)).status == "pending"  # not resumed: never started
        result = await wf.start({"value": 1}, run_id=run_id)
        assert result.status == "success" and result.result == {"value": 2}
        with pytest.raises(InvalidRunState, match="already started"):
            await wf.start({"value": 1}, run_id=run_id)


def test_messages_round_trip() -> None:
    msg = StartRun(input={"value": 1}, run_id="r", request_context={"k": "v"})
    for codec in (msgspec.json, msgspec.msgpack):
        assert codec.decode(codec.encode(msg), type=StartRun) == msg
