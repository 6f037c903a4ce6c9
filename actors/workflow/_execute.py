"""Step executions for the run engine: records, events, retries, durable success.

``StepExecutor`` runs one step to an outcome through the step actors (``runner``), keeps its
``StepRecord`` in the snapshot, emits its events, and makes a success durable before
returning, so nothing that depends on the step starts before its snapshot is acknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import trio

from actors.workflow._events import EventHub, new_call_id, step_event
from actors.workflow._persist import SnapshotWriter
from actors.workflow._snapshot import RunSnapshot, StepRecord, now_ms
from actors.workflow._step_actor import RunStep, StepFailed, StepOutcome
from actors.workflow.step import Step
from runtime import ActorCrashed, ActorStopped

__all__ = ["Bailed", "Failed", "Signal", "StepExecutor", "StepRunner", "Suspended"]

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


class StepExecutor:
    """Runs steps of one run (``prefix`` locates a nested workflow's steps)."""

    def __init__(
        self,
        snapshot: RunSnapshot,
        writer: SnapshotWriter,
        runner: StepRunner,
        hub: EventHub,
        *,
        prefix: str = "",
    ) -> None:
        self.snapshot = snapshot
        self.writer = writer
        self.runner = runner
        self.hub = hub
        self.prefix = prefix

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
        fields = {f: getattr(record, f) for f in record.__struct_fields__}
        fields.update(status=status, **changes)
        if status != "suspended":
            fields["ended_at"] = now_ms()
        done = self.snapshot.context[step_id] = StepRecord(**fields)
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
                raise failure
            await trio.sleep(step.retry_delay * 2**retry)
            retry += 1
