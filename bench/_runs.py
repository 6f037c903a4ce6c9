"""Durable ``three-step`` runs per second with no HTTP at all: the run's own cost.

``python -m bench._runs SECONDS`` starts a runtime with the default config's SQLite store
(a file in a temporary directory) and the ``three-step`` workflow, starts runs from 16
concurrent callers (each waits for its run to end, as ``start-async`` does) for SECONDS
after a short warm-up, and prints ``{"runs_per_s": ..., "runs_per_cpu_s": ...}``: runs per
second of wall time, and per second of this process's CPU time (all its threads), the
run's cost whether or not the CPU was busy all along. ``bench.vs_mastra`` runs it pinned
to the servers' CPU for its workflow ceiling.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time

import msgspec
import trio

from actors.demo import three_step_app
from actors.stores import SqliteStore
from actors.workflow.messages import StartRun
from runtime import ActorRef, RuntimeConfig, TelemetryConfig, open_runtime

CONCURRENCY = 16


async def _runs(flow: ActorRef, seconds: float) -> int:
    """How many runs ``CONCURRENCY`` callers finished in ``seconds``."""
    finished = 0

    async def caller() -> None:
        nonlocal finished
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            await flow.ask(StartRun(input={"value": 5}))
            finished += 1

    async with trio.open_nursery() as nursery:
        for _ in range(CONCURRENCY):
            nursery.start_soon(caller)
    return finished


async def main(seconds: float) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp:
        async with open_runtime(config) as rt:
            store = functools.partial(SqliteStore, f"{tmp}/mastra.db")
            await rt.spawn(store, name="store", kind="store")
            flow = (await three_step_app.spawn_in(rt)).ref
            await _runs(flow, min(seconds, 0.5))
            start, cpu = time.perf_counter(), time.process_time()
            finished = await _runs(flow, seconds)
            rate = finished / (time.perf_counter() - start)
            per_cpu = finished / (time.process_time() - cpu)
    line = {"runs_per_s": round(rate, 1), "runs_per_cpu_s": round(per_cpu, 1)}
    sys.stdout.write(msgspec.json.encode(line).decode() + "\n")


if __name__ == "__main__":
    trio.run(main, float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
