"""SIGKILL at random points: after restarts every run finishes with the right result and no
step whose completion was saved ran again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import trio

from actors.stores import SqliteStore
from actors.stores.messages import ListWorkflowRuns, WorkflowRunPage
from runtime import ActorCrashed, RuntimeConfig, TelemetryConfig, open_runtime
from tests.actors.workflow.kill_child import expected

ROOT = Path(__file__).resolve().parents[3]
KILLS = 20
RUNS_PER_GENERATION = 6


class Zygote:
    """The pre-imported process that forks each generation's child."""

    def __init__(self, db: Path, log: Path, events: Path) -> None:
        self.events = events
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.actors.workflow.kill_child",
                str(db),
                str(log),
                str(events),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def line(self) -> str:
        assert self.proc.stdout is not None
        return (await trio.to_thread.run_sync(self.proc.stdout.readline)).strip()

    async def fork(self, generation: int) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {generation} {RUNS_PER_GENERATION}\n")
        self.proc.stdin.flush()
        return int(await self.line())

    def progress(self, generation: int) -> list[str]:
        path = Path(f"{self.events}.{generation}")
        return path.read_text().splitlines() if path.exists() else []

    async def wait_for(self, generation: int, word: str, seconds: float) -> None:
        with trio.fail_after(seconds):
            while word not in self.progress(generation):
                await trio.sleep(0.01)


async def _saved(db: Path) -> tuple[set[tuple[str, str]], dict[str, tuple[Any, Any]]]:
    """(run, step) pairs whose success is saved, and each finished run's (input, result)."""
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(db), name="reader", kind="store")
        page: WorkflowRunPage = await store.ask(ListWorkflowRuns(workflow_name="killable"))
    done: set[tuple[str, str]] = set()
    results: dict[str, tuple[Any, Any]] = {}
    for run in page.runs:
        for step_id, record in run.snapshot.get("context", {}).items():
            if record["status"] == "success":
                done.add((run.run_id, step_id))
        if run.status == "success":
            results[run.run_id] = (run.snapshot["input"], run.snapshot["result"])
    return done, results


async def _saved_once_free(db: Path) -> tuple[set[tuple[str, str]], dict[str, tuple[Any, Any]]]:
    """``_saved``, once the kernel released the killed child's lock on the database (at
    once, mostly; a loaded machine takes longer)."""
    with trio.fail_after(10):
        while True:
            try:
                return await _saved(db)
            except ActorCrashed as exc:
                if "in use by another store" not in str(exc):
                    raise
            await trio.sleep(0.05)


def _executions(log: Path) -> list[tuple[int, str, str]]:
    rows = [line.split() for line in log.read_text().splitlines() if line]
    return [(int(g), run, step) for g, run, step in rows]


async def test_sigkill_at_random_points_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db, log = tmp_path / "wf.db", tmp_path / "steps.log"
    rng = random.Random(7)
    zygote = Zygote(db, log, tmp_path / "events")
    saved_after: list[set[tuple[str, str]]] = []
    acknowledged: set[str] = set()
    try:
        assert await zygote.line() == "loaded"
        kills = generation = 0
        while kills < KILLS:
            pid = await zygote.fork(generation)
            if rng.random() < 0.8:  # most kills land while runs are in flight
                await zygote.wait_for(generation, "ready", seconds=20)
            await trio.sleep(rng.uniform(0.0, 0.25))
            try:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:  # it finished every run before the kill
                pass
            acknowledged.update(_started(zygote.progress(generation)))
            saved_after.append((await _saved_once_free(db))[0])
            generation += 1
        await zygote.fork(generation)
        await zygote.wait_for(generation, "done", seconds=30)
        acknowledged.update(_started(zygote.progress(generation)))
    finally:
        zygote.proc.kill()
        zygote.proc.wait()
    done, results = await _saved(db)
    assert acknowledged <= set(results), "a run whose start was acknowledged did not finish"
    assert len(acknowledged) >= RUNS_PER_GENERATION * KILLS // 2
    for run_id, (given, result) in results.items():
        assert result == {"v": expected(given["v"])}, run_id
    executions = _executions(log)
    assert {(run, step) for _, run, step in executions} == done
    for generation, saved in enumerate(saved_after):
        repeated = [e for e in executions if e[0] > generation and (e[1], e[2]) in saved]
        assert not repeated, f"steps ran again after their success was saved: {repeated[:5]}"
    interrupted = [s for g, s in enumerate(saved_after) if any(e[0] > g for e in executions)]
    assert interrupted, "no kill interrupted a run"


def _started(lines: list[str]) -> set[str]:
    return {line.split()[1] for line in lines if line.startswith("started ")}
