"""Step executions for the run engine: records, events, retries, durable success.

``StepExecutor`` runs one step to an outcome through the step actors (``runner``), keeps its
``StepRecord`` in the snapshot, emits its events, and makes a success durable before
returning, so nothing that depends on the step starts before its snapshot is acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import msgspec
import trio

from actors.workflow._events import EventHub, new_call_id, step_event
from actors.workflow._persist import SnapshotWriter
from actors.workflow._snapshot import RunSnapshot, StepRecord, now_ms
from actors.workflow._step_actor import RunStep, StepFailed, StepOutcome
from actors.workflow.step import Step
from runtime import ActorCrashed, ActorStopped

__all__ = [
    "Bailed",
    "Failed",
    "Signal",
    "StepExecutor",
    "StepRunner",
    "Suspended",
    "Waits",
    "wall_time",
]

StepRunner = Callable[[str, RunStep], Awaitable[StepOutcome]]


class Signal(Exception):
    rank = 0


class Suspended(Signal):
    """A step suspended."""

    rank = 1


class Bailed(Signal):
    """A step bailed with ``result``."""

    rank = 2

    def __init__(self, result: Any) -> None:
        super().__init__("bailed")
        self.result = result


class Failed(Signal):
    """A step failed (the message says which and why)."""

    rank = 3


def wall_time() -> float:
    """Wall-clock seconds since the epoch: what sleep wake-up times are measured in."""
    return time.time()


class Waits:
    """The sleeps in progress in one run, nested workflows included; the run's status is
    ``waiting`` while there is at least one."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class StepExecutor:
    """Runs steps of one run (``prefix`` locates a nested workflow's steps; ``waits`` is
    shared with the engines of nested workflows)."""

    def __init__(
        self,
        snapshot: RunSnapshot,
        writer: SnapshotWriter,
        runner: StepRunner,
        hub: EventHub,
        *,
        prefix: str = "",
        waits: Waits | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.writer = writer
        self.runner = runner
        self.hub = hub
        self.prefix = prefix
        self.waits = waits if waits is not None else Waits()

    def _last_success(self) -> None:
        """Hook called after a success was recorded and before it is saved."""

    def _begin(self, step_id: str, value: Any) -> StepRecord:
        """Record the start of a step; a resumed step keeps its resume data."""
        snap = self.snapshot
        prev = snap.context.get(step_id)
        record = StepRecord(status="running", payload=value, started_at=now_ms())
        if prev is not None and prev.status == "suspended" and prev.resumed_at is not None:
            record.resume_payload, record.resumed_at = prev.resume_payload, prev.resumed_at
            record.suspend_payload, record.suspended_at = prev.suspend_payload, prev.suspended_at
            record.started_at = prev.started_at
        snap.context[step_id] = record
        if step_id not in snap.step_execution_path:
            snap.step_execution_path.append(step_id)
        return record

    def wall_time(self) -> float:
        """The current wall-clock time (``wall_time()``), in epoch seconds."""
        return wall_time()

    async def _wait_until(self, step_id: str, wake_at: float, value: Any) -> Any:
        """Sleep until the wall-clock time ``wake_at``, recorded as a ``waiting`` step.

        The run is ``waiting`` (and saved so) meanwhile; a run restarted during the sleep
        finds ``wake_at`` in its snapshot and sleeps only the rest. Cancellation ends the
        sleep and leaves the record ``waiting`` for the caller to settle.
        """
        snap, run = self.snapshot, self.writer.snapshot
        record = snap.context.get(step_id)
        if record is None or record.status != "waiting":
            record = snap.context[step_id] = StepRecord(
                status="waiting", payload=value, started_at=now_ms()
            )
            if step_id not in snap.step_execution_path:
                snap.step_execution_path.append(step_id)
        self.waits.count += 1
        try:
            run.status = "waiting"
            await self.writer.commit()
            await self._emit("workflow-step-waiting", step_id, record)
            await trio.sleep(max(0.0, wake_at - wall_time()))
        finally:
            self.waits.count -= 1
            if self.waits.count == 0 and run.status == "waiting":
                run.status = "running"
        done = self._finish(step_id, record, "success", output=value)
        await self.writer.commit()
        await self._emit("workflow-step-result", step_id, done)
        return value

    async def _emit(self, kind: Any, step_id: str, record: StepRecord) -> None:
        if self.hub.active:
            event = step_event(kind, self.snapshot.run_id, step_id, new_call_id(), record)
            await self.hub.publish(event)

    async def _exec(self, step: Step, value: Any, on_success: Callable[[Any], None]) -> Any:
        """Run one step to an outcome; success is durable before this returns."""
        record = self._begin(step.id, value)
        await self._emit("workflow-step-start", step.id, record)
        try:
            outcome, retries = await self._attempts(step, value, record.resume_payload)
        except StepFailed as exc:
            record.retry_count = exc.retry_count
            await self._fail(step.id, record, str(exc))
        record.retry_count = retries
        match outcome.status:
            case "success":
                return await self._succeed(step.id, record, outcome.value, on_success)
            case "suspended":
                await self._suspend(step.id, record, outcome.value)
        self._finish(step.id, record, "bailed", output=outcome.value)
        raise Bailed(outcome.value)

    def _finish(self, step_id: str, record: StepRecord, status: Any, **changes: Any) -> StepRecord:
        if status != "suspended":
            changes["ended_at"] = now_ms()
        done = self.snapshot.context[step_id] = msgspec.structs.replace(
            record, status=status, **changes
        )
        return done

    async def _succeed(
        self, step_id: str, record: StepRecord, value: Any, on_success: Callable[[Any], None]
    ) -> Any:
        done = self._finish(step_id, record, "success", output=value)
        on_success(value)
        self._last_success()
        await self.writer.commit()
        await self._emit("workflow-step-result", step_id, done)
        return value

    async def _suspend(self, step_id: str, record: StepRecord, payload: Any) -> NoReturn:
        done = self._finish(
            step_id,
            record,
            "suspended",
            suspend_payload=payload,
            suspended_at=now_ms(),
            resume_payload=None,
            resumed_at=None,
        )
        await self.writer.commit()
        await self._emit("workflow-step-suspended", step_id, done)
        raise Suspended(step_id)

    async def _fail(self, step_id: str, record: StepRecord, error: str) -> NoReturn:
        done = self._finish(step_id, record, "failed", error=error)
        await self._emit("workflow-step-result", step_id, done)
        raise Failed(f"step {step_id!r} failed: {error}")

    async def _attempts(self, step: Step, value: Any, resume: Any) -> tuple[StepOutcome, int]:
        """Call the step actor, retrying failures up to ``step.retries`` times with backoff."""
        snap = self.snapshot
        retry = 0
        while True:
            msg = RunStep(
                run_id=snap.run_id,
                workflow_id=snap.workflow_id,
                input=value,
                init=snap.input,
                results=snap.results(),
                resume_data=resume,
                retry_count=retry,
            )
            try:
                return await self.runner(self.prefix + step.id, msg), retry
            except StepFailed as exc:
                failure = exc
            except (ActorCrashed, ActorStopped) as exc:
                failure = StepFailed(f"step actor failed: {exc}")
            if not failure.retryable or retry >= step.retries:
                failure.retry_count = retry
                raise failure
            await trio.sleep(step.retry_delay * 2**retry)
            retry += 1
