"""An active run: its snapshot, writer, engine and watchers, and its execution to the end.

``ActiveRun.execute`` drives the engine, settles a cancellation, saves the final status and
announces the finish to the run's watchers. It never raises ``Exception``: a failing step
or engine marks the run ``failed``; a final save that fails is logged (the run then resumes
from its last acknowledged save at the next start). Cancellation from outside (the actor
stopping) propagates and leaves the run ``running`` in the store. A run whose lease another
node took over (``lost``) stops where it is and saves nothing: that node continues it. So
does a run whose store became unavailable (``store_failure``, the error its waiting callers
get): nothing past its last acknowledged save is durable, a ``failed`` could not be either,
and the stored run continues when it is recovered (by a lease's expiry on Postgres, else at
the next start).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import trio

from actors.stores import LeaseLost, StoreUnavailable
from actors.workflow._engine import Engine
from actors.workflow._events import EventHub, finish_event
from actors.workflow._persist import SnapshotWriter
from actors.workflow._snapshot import RunSnapshot, StepRecord, now_ms
from actors.workflow.messages import RunEvent
from runtime import Reply

__all__ = ["ActiveRun", "settle_canceled"]

log = logging.getLogger("actors.workflow")


@dataclass(eq=False)
class ActiveRun:
    """A run a workflow actor is driving."""

    snapshot: RunSnapshot
    writer: SnapshotWriter
    engine: Engine
    hub: EventHub
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    stopped: trio.Event = field(default_factory=trio.Event)
    started: float = 0.0  # for the run's duration metric
    waiters: list[Reply] = field(default_factory=list)  # asks answered when it stops
    lost: bool = False  # another node holds its lease now (or gets it: ``handed_over``)
    handed_over: bool = False  # this node stops and gives the run up
    store_failure: StoreUnavailable | None = None  # the store went away under it

    def lose(self, *, handing_over: bool = False) -> None:
        """Stop driving this run without saving anything more: another node has it, or
        (``handing_over``) gets it as this node stops."""
        self.lost = True
        self.handed_over = handing_over
        self.scope.cancel()

    async def execute(self) -> None:
        """Run to a stop (success, failure, suspension, cancel), save it and announce it."""
        snap = self.snapshot
        if self.hub.active:
            event = RunEvent(
                type="workflow-start", run_id=snap.run_id, payload={"workflowId": snap.workflow_id}
            )
            await self.hub.publish(event)
        try:
            with self.scope:
                await self.engine.run()
            if self.scope.cancelled_caught and not self.lost:
                settle_canceled(snap)
        except Exception as exc:
            self.lost = self.lost or _caused_by(exc, LeaseLost) is not None
            store_down = _caused_by(exc, StoreUnavailable)
            if isinstance(store_down, StoreUnavailable):
                self.store_failure = store_down
            elif not self.lost:
                log.exception("workflow %r: run %r failed", snap.workflow_id, snap.run_id)
                snap.status, snap.error = "failed", f"{type(exc).__name__}: {exc}"
        if self.lost or self.store_failure is not None:
            log.log(
                logging.INFO if self.handed_over else logging.WARNING,
                "workflow %r: run %r stops where its last save left it: %s",
                snap.workflow_id,
                snap.run_id,
                self.store_failure or "another node continues it",
            )
            self.hub.close()
            return
        try:
            if self.writer.saved_status != snap.status:
                await self.writer.commit()
        except Exception:
            log.exception(
                "workflow %r: could not save the end of run %r", snap.workflow_id, snap.run_id
            )
        await self._announce_finish()

    async def _announce_finish(self) -> None:
        snap = self.snapshot
        try:
            if self.hub.active:
                event = finish_event(snap.run_id, snap.status, snap.result, snap.error)
                await self.hub.publish(event)
        finally:
            self.hub.close()


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """The ``kind`` exception ``exc`` is, or was caused by (also inside a group), or None."""
    seen = 0
    while exc is not None and seen < 8:  # a short chain suffices
        if isinstance(exc, kind):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = [_caused_by(e, kind) for e in exc.exceptions]
            return next((f for f in found if f is not None), None)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def settle_canceled(snapshot: RunSnapshot) -> None:
    """Mark the run and its unfinished steps canceled."""
    snapshot.status = "canceled"
    for step_id, record in list(snapshot.context.items()):
        if record.status in ("running", "waiting", "suspended"):
            snapshot.context[step_id] = StepRecord(
                status="canceled",
                payload=record.payload,
                started_at=record.started_at,
                ended_at=now_ms(),
                error="canceled",
            )
