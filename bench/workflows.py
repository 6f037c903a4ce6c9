"""Workflow overhead: ``python -m bench.workflows [--quick]``.

In one run, against baselines measured in the same run:

- a three-step sequential workflow with snapshots saved to a file-backed SQLite store vs the
  same three functions awaited in a plain loop (``overhead_per_step_us``);
- runs per second of that workflow at concurrency 64 (``runs_per_s``);
- a ``foreach`` over 10,000 items with concurrency 16 vs the plain loop (``foreach_items_per_s``).

Beside the main figure, in interleaved rounds (medians), what a step's overhead is made of:

- the same workflow with its snapshots kept in memory: every layer but durability
  (``engine_per_step_us``);
- the store actor's latency for one acknowledged write of a real run's snapshot (a new row,
  then two updates, as a run makes them: ``store_save_us``), which every step pays once;
- the same writes committed straight to SQLite with no actor and no thread
  (``bare_commit_us``), and an empty hand-off to a thread and back
  (``thread_round_trip_us``): SQLite may not block the Trio thread, so no durable step can
  avoid either. ``durable_floor_per_step_us`` adds them to the engine's share: the overhead
  of a step whose store actor cost nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
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

ROUNDS = 5


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


def _three(id: str) -> Workflow:
    return (
        Workflow(id, V, V)
        .then(_as_step("add-one", add_one))
        .then(_as_step("double", double))
        .then(_as_step("square", square))
        .commit()
    )


three = _three("bench-three")
three_in_memory = _three("bench-three-in-memory")
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
    """``n`` writes as runs of three steps make them: a new run's row, then two updates
    (runs get fresh ids on each call)."""
    batch = uuid.uuid4().hex
    statuses: tuple[WorkflowStatus, ...] = ("running", "running", "success")
    return [
        SaveWorkflowRun(
            workflow_name="raw",
            run_id=f"{batch}-{i // 3}",
            status=statuses[i % 3],
            snapshot=snapshot,
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


async def threaded_commit(path: str, snapshot: dict[str, Any], n: int) -> float:
    """Seconds per such write committed by a plain thread, handed over and back as the
    store's writer does it, with no actor: the least a durable write costs here."""
    db = Database(path, synchronous="normal")
    saves = _saves(snapshot, n)
    try:
        return await thread_round_trip(n, lambda i: db.write_batch([saves[i]], apply_write))
    finally:
        db.close()


async def real_snapshot(wf: WorkflowRef, store: ActorRef) -> dict[str, Any]:
    """The snapshot the engine saved for one run of ``three``."""
    result = await wf.start({"value": 1})
    record = await store.ask(GetWorkflowRun(workflow_name=three.id, run_id=result.run_id))
    snapshot: dict[str, Any] = record.snapshot
    return snapshot


async def per_step(wf: WorkflowRef, runs: int) -> float:
    """Microseconds each step of ``three`` adds over the plain loop, over ``runs`` runs."""
    per_run, per_plain = await sequential(wf, runs)
    return (per_run - per_plain) / 3 * 1e6


async def rounds(
    durable: WorkflowRef, memory: WorkflowRef, store: ActorRef, raw_db: str, runs: int
) -> dict[str, float]:
    """Interleaved rounds of the durable and in-memory workflows and of the store write's
    parts, so that a machine whose disk or load drifts during the run shifts them alike;
    the median of each (microseconds)."""
    snapshot = await real_snapshot(durable, store)
    samples: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        round_ = {
            "overhead": await per_step(durable, runs),
            "engine": await per_step(memory, runs),
            "save": await store_save(store, snapshot, runs) * 1e6,
            "commit": snapshot_commit(raw_db, snapshot, runs) * 1e6,
            "hop": await thread_round_trip(3 * runs) * 1e6,
            "threaded": await threaded_commit(raw_db, snapshot, runs) * 1e6,
        }
        for key, value in round_.items():
            samples.setdefault(key, []).append(value)
    medians = {key: statistics.median(values) for key, values in samples.items()}
    medians["snapshot_bytes"] = len(msgspec.json.encode(snapshot))
    return medians


async def main(quick: bool) -> None:
    runs = 100 if quick else 1_000
    concurrent_runs = 1_920 if quick else 12_800
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    with tempfile.TemporaryDirectory() as tmp:
        async with open_runtime(config) as rt:
            store = await rt.spawn(
                partial(SqliteStore, str(Path(tmp) / "bench.db"), synchronous="normal"),
                name="store",
                kind="store",
            )
            wf = await rt.spawn(three.deploy(store="store"))
            memory = await rt.spawn(three_in_memory.deploy())
            await sequential(wf, 20)  # warm up
            await sequential(memory, 20)
            m = await rounds(wf, memory, store, str(Path(tmp) / "raw.db"), runs)
            emit({"case": "sequential", "rounds": ROUNDS, "runs_per_round": runs, **m})
            rate = await concurrent(wf, concurrent_runs, 64)
            emit(
                {
                    "case": "concurrent",
                    "runs": concurrent_runs,
                    "concurrency": 64,
                    "runs_per_s": rate,
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
    floor = m["engine"] + m["threaded"]
    emit(
        {
            "bench": "workflows",
            "quick": quick,
            "overhead_per_step_us": round(m["overhead"], 1),
            "engine_per_step_us": round(m["engine"], 1),
            "store_save_us": round(m["save"], 1),
            "bare_commit_us": round(m["commit"], 1),
            "thread_round_trip_us": round(m["hop"], 1),
            "threaded_commit_us": round(m["threaded"], 1),
            "durable_floor_per_step_us": round(floor, 1),
            "runs_per_s": round(rate, 1),
            "foreach_items_per_s": round(10_000 / elapsed, 1),
            "foreach_seconds": round(elapsed, 3),
            "targets": {"overhead_per_step_us": 300, "runs_per_s": 1000},
        }
    )


if __name__ == "__main__":
    args = parse_args(__doc__ or "workflows benchmark")
    trio.run(main, args.quick)
