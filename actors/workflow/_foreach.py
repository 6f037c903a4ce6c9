"""``foreach``: one step over every item of a list, ``concurrency`` items at a time.

Finished items are kept in the node's state (``done``, by index) and saved in batches while
the loop runs (at most one save per ``PROGRESS_INTERVAL``, fewer when saves are slow, and
one after the last change),
so a restarted run skips every item whose result was acknowledged. Each finished item
sends Mastra's ``workflow-step-progress`` event to watchers.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import trio

from actors.workflow._execute import Bailed, Failed, Signal, StepExecutor, Suspended
from actors.workflow._snapshot import NodeState, StepRecord
from actors.workflow._step_actor import StepFailed
from actors.workflow.messages import RunEvent
from actors.workflow.step import Step

__all__ = ["PROGRESS_INTERVAL", "SAVE_SHARE", "run_foreach"]

PROGRESS_INTERVAL = 0.05
"""Least seconds between two saves of a running foreach's progress."""
SAVE_SHARE = 4
"""After a progress save that took ``t`` seconds, the next waits at least ``SAVE_SHARE * t``."""


async def run_foreach(
    executor: StepExecutor, step: Step, state: NodeState, value: Any, concurrency: int
) -> Any:
    """Run ``step`` over the items of ``value``; returns the list of outputs once it is
    durable. Raises ``Failed``, ``Suspended`` or ``Bailed`` (after recording the step).
    Cancellation stops every item; finished items stay in ``state``."""
    record = executor._begin(step.id, value)
    if not isinstance(value, list):
        await executor._fail(step.id, record, f"foreach needs a list, got {type(value).__name__}")
    await executor._emit("workflow-step-start", step.id, record)
    loop = _Loop(executor, step, state, record, value)
    await loop.run(concurrency)
    return await loop.finish()


class _Loop:
    """One execution of a foreach node."""

    def __init__(
        self,
        executor: StepExecutor,
        step: Step,
        state: NodeState,
        record: StepRecord,
        items: list[Any],
    ) -> None:
        self.executor = executor
        self.step = step
        self.state = state
        self.record = record
        self.items = items
        self.resumed = set(state.suspended) if record.resumed_at is not None else set()
        state.suspended = []
        self.signals: list[Signal] = []
        self.changed, self.changes = trio.open_memory_channel[None](1)

    async def run(self, concurrency: int) -> None:
        pending = iter([i for i in range(len(self.items)) if str(i) not in self.state.done])
        async with trio.open_nursery() as saving:
            saving.start_soon(self._save_progress)
            async with trio.open_nursery() as nursery:
                for _ in range(min(concurrency, len(self.items)) or 1):
                    nursery.start_soon(self._worker, pending)
            saving.cancel_scope.cancel()

    async def _save_progress(self) -> None:
        """Save the snapshot after items finished: at most once per interval, and no more
        often than keeps saving (encoding a large snapshot) to a fifth of the time."""
        async for _ in self.changes:
            started = trio.current_time()
            await self.executor.writer.commit()
            spent = trio.current_time() - started
            await trio.sleep(max(PROGRESS_INTERVAL, SAVE_SHARE * spent))

    async def _worker(self, pending: Any) -> None:
        for index in pending:
            if self.signals and self.signals[-1].rank >= Bailed.rank:
                return
            resume = self.record.resume_payload if index in self.resumed else None
            try:
                await self._item(index, resume)
            except Signal as signal:
                self.signals.append(signal)

    async def _item(self, index: int, resume: Any) -> None:
        step, state = self.step, self.state
        try:
            outcome, _ = await self.executor._attempts(step, self.items[index], resume)
        except StepFailed as exc:
            await self._progress(index, "failed", None)
            raise Failed(f"step {step.id!r} failed on item {index}: {exc}") from exc
        if outcome.status == "success":
            state.done[str(index)] = outcome.value
            with suppress(trio.WouldBlock):  # a save is already due; it includes this item
                self.changed.send_nowait(None)
            await self._progress(index, "success", outcome.value)
        elif outcome.status == "suspended":
            state.suspended.append(index)
            state.value = outcome.value
            await self._progress(index, "suspended", None)
            raise Suspended(step.id)
        else:
            raise Bailed(outcome.value)

    async def _progress(self, index: int, status: str, output: Any) -> None:
        """Mastra's per-item ``workflow-step-progress`` event (only built when watched)."""
        hub = self.executor.hub
        if not hub.active:
            return
        failed = sum(1 for s in self.signals if isinstance(s, Failed)) + (status == "failed")
        payload: dict[str, Any] = {
            "id": self.step.id,
            "completedCount": len(self.state.done) + failed,
            "totalCount": len(self.items),
            "currentIndex": index,
            "iterationStatus": status,
        }
        if status == "success":
            payload["iterationOutput"] = output
        run_id = self.executor.snapshot.run_id
        await hub.publish(RunEvent(type="workflow-step-progress", run_id=run_id, payload=payload))

    async def finish(self) -> Any:
        executor, step, state, record = self.executor, self.step, self.state, self.record
        if self.signals:
            worst = max(self.signals, key=lambda s: s.rank)
            if isinstance(worst, Failed):
                await executor._fail(step.id, record, str(worst))
            if isinstance(worst, Suspended):
                await executor._suspend(step.id, record, state.value)
            raise worst
        output = [state.done[str(i)] for i in range(len(self.items))]

        def done(out: Any) -> None:
            # the outputs now live in the step's record: keeping ``done`` too would save
            # each of them twice
            state.status, state.done = "success", {}

        return await executor._succeed(step.id, record, output, done)
