"""Workflow overhead: ``python -m bench.workflows [--quick]``.

In one run, against baselines measured in the same run:

- a three-step sequential workflow with snapshots saved to a file-backed SQLite store vs the
  same three functions awaited in a plain loop (``overhead_per_step_us``);
- runs per second of that workflow at concurrency 64 (``runs_per_s``);
- a ``foreach`` over 10,000 items with concurrency 16 vs the plain loop (``foreach_items_per_s``);
- the store actor's own latency for one acknowledged write of a real run's snapshot (a new
  row, then two updates, as a run makes them: ``store_save_us``), which every step pays
  once, so ``overhead_per_step_without_store_us`` is the workflow layers' share; and the
  same writes committed straight to SQLite with no actor and no thread
  (``bare_commit_us``) plus an empty hand-off to a thread and back
  (``thread_round_trip_us``): the part of a step's overhead that no engine can avoid.
"""

from __future__ import annotations

import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import trio

from actors.stores import SqliteStore
from actors.stores._sql import Database
from actors.stores._writes import apply_write
from actors.stores.messages import GetWorkflowRun, SaveWorkflowRun, WorkflowStatus
from actors.workflow import StepContext, Workflow, WorkflowRef, step
from bench._common import emit, parse_args, thread_round_trip
from runtime import ActorRef, RuntimeConfig, TelemetryConfig, open_runtime


class V(msgspec.Struct):
    value: int


async def add_one(value: int) -> int:
    await trio.lowlevel.checkpoint()
    return value + 1


async def double(value: int) -> int:
    await trio.lowlevel.checkpoint()
    return value * 2


async def square(value: int) -> int:
    await trio.lowlevel.checkpoint()
    return value * value % 1_000_003


def _as_step(id: str, fn: Any) -> Any:
    async def run(ctx: StepContext[V]) -> V:
        return V(await fn(ctx.input_data.value))

    return step(id, V, V, run)


three = (
    Workflow("bench-three", V, V)
    .then(_as_step("add-one", add_one))
    .then(_as_step("double", double))
    .then(_as_step("square", square))
    .commit()
)
fanout = (
    Workflow("bench-foreach", list[V], list[V])
    .foreach(_as_step("each", add_one), concurrency=16)
    .commit()
)


async def plain(value: int) -> int:
    return await square(await double(await add_one(value)))


async def sequential(wf: WorkflowRef, n: int) -> tuple[float, float]:
    """Seconds per workflow run and per plain loop, sequentially."""
    start = time.perf_counter()
    for i in range(n):
        result = await wf.start({"value": i})
        assert result.status == "success", result.error
    per_run = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(n):
        await plain(i)
    return per_run, (time.perf_counter() - start) / n


async def concurrent(wf: WorkflowRef, n: int, concurrency: int) -> float:
    """Workflow runs per second with ``concurrency`` callers."""
    per_worker = n // concurrency

    async def worker() -> None:
        for i in range(per_worker):
            result = await wf.start({"value": i})
            assert result.status == "success", result.error

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)
    return per_worker * concurrency / (time.perf_counter() - start)


async def foreach(wf: WorkflowRef, items: int) -> tuple[float, float]:
    """Seconds for the foreach run and for the same items in a plain loop."""
    data = [{"value": i} for i in range(items)]
    start = time.perf_counter()
    result = await wf.start(data)
    assert result.status == "success" and len(result.result) == items, result.error
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(items):
        await add_one(i)
    return elapsed, time.perf_counter() - start


def _saves(snapshot: dict[str, Any], n: int) -> list[SaveWorkflowRun]:
    """``n`` writes as runs of three steps make them: a new run's row, then two updates."""
    statuses: tuple[WorkflowStatus, ...] = ("running", "running", "success")
    return [
        SaveWorkflowRun(
            workflow_name="raw", run_id=f"r{i // 3}", status=statuses[i % 3], snapshot=snapshot
        )
        for i in range(n)
    ]


async def store_save(store: ActorRef, snapshot: dict[str, Any], n: int) -> float:
    """Seconds per acknowledged write of a real run's snapshot straight to the store actor."""
    saves = _saves(snapshot, n)
    start = time.perf_counter()
    for msg in saves:
        await store.ask(msg)
    return (time.perf_counter() - start) / n


def snapshot_commit(path: str, snapshot: dict[str, Any], n: int) -> float:
    """Seconds per such write committed straight to SQLite: no actor, no thread."""
    db = Database(path, synchronous="normal")
    saves = _saves(snapshot, n)
    try:
        start = time.perf_counter()
        for msg in saves:
            db.write_batch([msg], apply_write)
        return (time.perf_counter() - start) / n
    finally:
        db.close()


async def real_snapshot(wf: WorkflowRef, store: ActorRef) -> dict[str, Any]:
    """The snapshot the engine saved for one run of ``three``."""
    result = await wf.start({"value": 1})
    record = await store.ask(GetWorkflowRun(workflow_name=three.id, run_id=result.run_id))
    snapshot: dict[str, Any] = record.snapshot
    return snapshot


async def main(quick: bool) -> None:
    runs = 300 if quick else 3_000
    concurrent_runs = 1_920 if quick else 12_800
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    with tempfile.TemporaryDirectory() as tmp:
        async with open_runtime(config) as rt:
            db = str(Path(tmp) / "bench.db")
            store = await rt.spawn(
                partial(SqliteStore, db, synchronous="normal"), name="store", kind="store"
            )
            wf = await rt.spawn(three.deploy(store="store"))
            await sequential(wf, 20)  # warm up
            snapshot = await real_snapshot(wf, store)
            save = await store_save(store, snapshot, runs)
            commit = snapshot_commit(str(Path(tmp) / "raw.db"), snapshot, runs)
            hop = await thread_round_trip(10 * runs)
            emit(
                {
                    "case": "store_save",
                    "snapshot_bytes": len(msgspec.json.encode(snapshot)),
                    "save_us": save * 1e6,
                    "bare_commit_us": commit * 1e6,
                    "thread_round_trip_us": hop * 1e6,
                }
            )
            per_run, per_plain = await sequential(wf, runs)
            overhead = (per_run - per_plain) / 3 * 1e6
            emit(
                {
                    "case": "sequential",
                    "runs": runs,
                    "run_us": per_run * 1e6,
                    "plain_us": per_plain * 1e6,
                    "overhead_per_step_us": overhead,
                }
            )
            rate = await concurrent(wf, concurrent_runs, 64)
            emit(
                {
                    "case": "concurrent",
                    "runs": concurrent_runs,
                    "concurrency": 64,
                    "runs_per_s": rate,
                    "plain_runs_per_s": 1 / per_plain,
                }
            )
            each = await rt.spawn(fanout.deploy(store="store"))
            elapsed, plain_elapsed = await foreach(each, 10_000)
            emit(
                {
                    "case": "foreach",
                    "items": 10_000,
                    "concurrency": 16,
                    "seconds": elapsed,
                    "items_per_s": 10_000 / elapsed,
                    "plain_seconds": plain_elapsed,
                }
            )
    emit(
        {
            "bench": "workflows",
            "quick": quick,
            "overhead_per_step_us": round(overhead, 1),
            "store_save_us": round(save * 1e6, 1),
            "bare_commit_us": round(commit * 1e6, 1),
            "thread_round_trip_us": round(hop * 1e6, 1),
            "overhead_per_step_without_store_us": round(overhead - save * 1e6, 1),
            "runs_per_s": round(rate, 1),
            "foreach_items_per_s": round(10_000 / elapsed, 1),
            "foreach_seconds": round(elapsed, 3),
            "targets": {"overhead_per_step_us": 300, "runs_per_s": 1000},
        }
    )


if __name__ == "__main__":
    args = parse_args(__doc__ or "workflows benchmark")
    trio.run(main, args.quick)
