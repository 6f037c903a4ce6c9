"""Sleeping runs: status ``waiting``, Mastra's waiting event, and durable wake-up times."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
import trio
import trio.testing

from actors.stores import SqliteStore
from actors.workflow import Step, StepContext, Workflow, WorkflowRef, _execute, step
from runtime import Mastra, RuntimeConfig, TelemetryConfig, open_runtime

BASE = 1_800_000_000.0


class Value(msgspec.Struct):
    value: int


@pytest.fixture(autouse=True)
def mock_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall-clock time that advances with Trio's (mock) clock."""
    monkeypatch.setattr(_execute, "wall_time", lambda: BASE + trio.current_time())


def counting(ran: Counter[str], ran_at: dict[str, float] | None = None) -> Workflow:
    def inc(id: str) -> Step:
        def run(ctx: StepContext[Value]) -> Value:
            ran[id] += 1
            if ran_at is not None:
                ran_at[id] = trio.current_time()
            return Value(ctx.input_data.value + 1)

        return step(id, Value, Value, run)

    return Workflow("sleepy", Value, Value).then(inc("a")).sleep(100).then(inc("b")).commit()


async def _until_waiting(wf: WorkflowRef, run_id: str) -> None:
    while (await wf.get_run(run_id)).status != "waiting":
        await trio.sleep(0.01)


async def test_a_sleeping_run_is_waiting_with_mastras_events(
    mock_clock: trio.testing.MockClock, rt: Mastra
) -> None:
    ran: Counter[str] = Counter()
    wf = await rt.spawn(counting(ran))
    types: list[str] = []
    async with wf.stream({"value": 1}) as events:
        async for event in events:
            types.append(event.type)
            if event.type == "workflow-step-waiting":
                assert event.payload["status"] == "waiting"
                assert event.payload["payload"] == {"value": 2}
                run = await wf.get_run(event.run_id)
                assert run.status == "waiting"
                assert (await wf.list_runs(status="waiting")).total == 1
                sleep_id = event.payload["id"]
                assert run.context[sleep_id].status == "waiting"
                assert run.nodes[sleep_id].wake_at == BASE + trio.current_time() + 100
                mock_clock.jump(100)
    assert types.count("workflow-step-waiting") == 1
    assert types[-3:] == ["workflow-step-start", "workflow-step-result", "workflow-finish"]
    final = await wf.get_run(event.run_id)
    assert final.status == "success" and final.result == {"value": 3}
    assert final.step_execution_path == ["a", sleep_id, "b"]
    assert final.context[sleep_id].status == "success"


async def test_sleep_until_a_datetime_and_a_function(
    autojump_clock: trio.testing.MockClock, rt: Mastra
) -> None:
    start = trio.current_time()
    at = datetime.fromtimestamp(BASE + start + 30, tz=UTC)
    flow = (
        Workflow("until", Value, Value)
        .sleep_until(at)
        .sleep_until(lambda ctx: BASE + trio.current_time() + ctx.input_data["value"])
        .commit()
    )
    result = await (await rt.spawn(flow)).start({"value": 20})
    assert result.status == "success" and result.result == {"value": 20}
    assert 50 <= trio.current_time() - start < 51


async def test_cancel_ends_a_sleep(autojump_clock: trio.testing.MockClock, rt: Mastra) -> None:
    wf = await rt.spawn(counting(Counter()))
    run_id = await wf.start_async({"value": 1})
    await _until_waiting(wf, run_id)
    start = trio.current_time()
    result = await wf.cancel(run_id)
    assert result.status == "canceled" and trio.current_time() - start < 1
    assert all(r.status != "waiting" for r in result.steps.values())


async def test_a_restarted_run_sleeps_only_the_rest(
    mock_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    # The store's writer is a plain thread, invisible to an autojump clock that jumps the
    # moment Trio is idle; jumping only after 50 ms idle lets every write land first.
    mock_clock.autojump_threshold = 0.05
    ran: Counter[str] = Counter()
    ran_at: dict[str, float] = {}
    flow = counting(ran, ran_at)
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    db = str(tmp_path / "wf.db")
    async with open_runtime(config) as rt:
        await rt.spawn(SqliteStore, db, name="store", kind="store")
        wf = await rt.spawn(flow.deploy(store="store"))
        run_id = await wf.start_async({"value": 1})
        await _until_waiting(wf, run_id)
        slept_from = trio.current_time()
        snapshot = await wf.get_run(run_id)
        wake_at = next(n.wake_at for n in snapshot.nodes.values() if n.wake_at is not None)
        assert wake_at - BASE == pytest.approx(slept_from + 100, abs=0.1)
        await trio.sleep(40)
    assert ran == {"a": 1}
    async with open_runtime(config) as rt:
        restarted = trio.current_time()
        await rt.spawn(SqliteStore, db, name="store", kind="store")
        wf = await rt.spawn(flow.deploy(store="store"))
        result = await wf.wait(run_id)
    assert result.status == "success" and result.result == {"value": 3}
    assert ran == {"a": 1, "b": 1}
    assert restarted - slept_from >= 40
    # The step after the sleep, not the caller's wake-up: the autojump clock may
    # skip ahead while the final save waits on the store's thread.
    assert ran_at["b"] == pytest.approx(wake_at - BASE, abs=0.1)


async def test_more_recoverable_runs_than_slots_recover_in_the_background(
    mock_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    mock_clock.autojump_threshold = 0.05  # as above: let the store's thread land its writes
    ran: Counter[str] = Counter()
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    db = str(tmp_path / "wf.db")
    async with open_runtime(config) as rt:
        await rt.spawn(SqliteStore, db, name="store", kind="store")
        wf = await rt.spawn(counting(ran).deploy(store="store"))
        run_ids = [await wf.start_async({"value": i}) for i in range(3)]
        for run_id in run_ids:
            await _until_waiting(wf, run_id)
        await trio.sleep(1)
    async with open_runtime(config) as rt:
        restarted = trio.current_time()
        await rt.spawn(SqliteStore, db, name="store", kind="store")
        wf = await rt.spawn(counting(ran).deploy(store="store", max_active_runs=1))
        assert trio.current_time() - restarted < 1  # started without waiting for a slot
        canceled = await wf.cancel(run_ids[2])  # still queued for a slot: settled in place
        results = [await wf.wait(run_id) for run_id in run_ids[:2]]
        assert (await wf.get_run(run_ids[2])).status == "canceled"
    assert canceled.status == "canceled"
    assert [r.status for r in results] == ["success", "success"]
    assert [r.result for r in results] == [{"value": 2}, {"value": 3}]
    assert ran == {"a": 3, "b": 2}
