"""Zygote for the SIGKILL test: imports once, then forks one child per generation.

``python -m tests.actors.workflow.kill_child DB LOG EVENTS`` prints ``loaded`` and then
reads commands: ``run GENERATION RUNS`` forks a child and prints its pid. The child resumes
the runs left ``running``, starts ``RUNS`` new runs named after the generation, waits for
every run to finish and writes ``done``. Its progress goes to ``EVENTS.GENERATION``:
``started RUN_ID`` per acknowledged start, then ``ready``. Each step execution appends
``generation run_id step_id`` to LOG (fsynced) before it returns.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import trio

from actors.stores import SqliteStore
from actors.workflow import RunNotFound, Step, StepContext, Workflow, step
from runtime import RuntimeConfig, TelemetryConfig, open_runtime


class V(msgspec.Struct):
    v: int


class Both(msgspec.Struct):
    b: V
    c: V


def expected(v: int) -> int:
    """The result the workflow must produce for input ``v``."""
    a = v + 1
    return ((a * 2) + (a + 10)) * 3 + 7


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())


def build(log_path: str, generation: int, limiter: trio.CapacityLimiter) -> Workflow:
    def recorded(id: str, inp: type, fn: Callable[[Any], int]) -> Step:
        async def run(ctx: StepContext[Any]) -> V:
            await trio.sleep(random.uniform(0.002, 0.02))
            line = f"{generation} {ctx.run_id} {id}"
            await trio.to_thread.run_sync(_append, log_path, line, limiter=limiter)
            return V(fn(ctx.input_data))

        return step(id, inp, V, run)

    return (
        Workflow("killable", V, V)
        .then(recorded("a", V, lambda x: x.v + 1))
        .parallel([recorded("b", V, lambda x: x.v * 2), recorded("c", V, lambda x: x.v + 10)])
        .then(recorded("d", Both, lambda x: x.b.v + x.c.v))
        .then(recorded("e", V, lambda x: x.v * 3 + 7))
        .commit()
    )


async def main(db: str, log_path: str, events: str, generation: int, runs: int) -> None:
    limiter = trio.CapacityLimiter(4)

    async def note(line: str) -> None:
        await trio.to_thread.run_sync(_append, events, line, limiter=limiter)

    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = functools.partial(SqliteStore, db, synchronous="normal")
        await rt.spawn(store, name="store", kind="store")
        wf = await rt.spawn(build(log_path, generation, limiter).deploy(store="store"))
        ids = [f"g{generation}-{i}" for i in range(runs)]
        for i, run_id in enumerate(ids):
            try:
                await wf.get_run(run_id)
            except RunNotFound:
                await wf.start_async({"v": generation * 100 + i}, run_id=run_id)
                await note(f"started {run_id}")
        await note("ready")
        for run_id in [r.run_id for r in (await wf.list_runs()).runs]:
            await wf.wait(run_id)
    await note("done")


def zygote(db: str, log_path: str, events: str) -> None:
    """Fork a child per ``run`` command; children are reaped automatically."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("loaded", flush=True)
    for line in sys.stdin:
        _, generation, runs = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                trio.run(main, db, log_path, f"{events}.{generation}", int(generation), int(runs))
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    zygote(sys.argv[1], sys.argv[2], sys.argv[3])
