"""Recovery of the runs a workflow actor finds unfinished: at start from its own store, and
on Postgres by leases that a heartbeat renews and that it takes over from nodes that died
or that handed their runs over as they stopped.

``Recovery`` is mixed into ``WorkflowActor``: it continues every run the store records as
``running`` or ``waiting`` in the background (so the actor starts at once however many there
are), each when one of the ``max_active_runs`` slots is free. Their ids are claimed first:
a wait or watch for one of them waits until it continues, a start of one is refused, and a
cancel of one still queued settles it in the store.

Other nodes wake this one through the store (``LeasedSnapshots.notice``) when they hand runs
over or ask for a cancel of a run driven here; without a wake-up (the listener is
reconnecting, or a pooler in between drops ``LISTEN``) the heartbeat finds both anyway.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from actors.stores import StoreError
from actors.stores.lease_messages import cancel_notice, release_notice
from actors.workflow._leased import LeasedSnapshots
from actors.workflow._persist import RunQuery
from actors.workflow._snapshot import RunSnapshot, RunStatus
from runtime import ActorError

if TYPE_CHECKING:
    from actors.workflow._active import ActiveRun
    from actors.workflow._admission import Admission
    from actors.workflow._persist import SnapshotStore
    from actors.workflow.dsl import Workflow
    from runtime import Context

__all__ = ["Recovery"]

log = logging.getLogger("actors.workflow")


class Recovery:
    """The recovery half of ``WorkflowActor`` (see the module docstring)."""

    if TYPE_CHECKING:
        ctx: Context
        workflow: Workflow
        port: SnapshotStore
        runs: dict[str, ActiveRun]
        admission: Admission
        recovering: set[str]
        recovery_listed: trio.Event
        heartbeat_scope: trio.CancelScope
        handing_over: bool

        def _registered(self, snapshot: RunSnapshot) -> ActiveRun: ...

        async def _go(self, run: ActiveRun, *, save: bool = True) -> ActiveRun: ...

    async def _recover(self) -> None:
        """Continue, in the background, every run the store records as running or waiting
        (in a sleep), from its last saved step; a sleep sleeps only what is left of it.

        Their ids are claimed first, so a wait for one of them waits until it continues and
        a start of one is refused; each then takes a slot like any run, so recovering more
        runs than ``max_active_runs`` neither blocks the actor's start nor exceeds the bound.
        A store failure here crashes the actor, whose restart retries.
        """
        statuses: tuple[RunStatus, ...] = ("running", "waiting")
        try:
            for status in statuses:
                snapshots, _ = await self.port.list(self.workflow.id, RunQuery(status=status))
                for snapshot in snapshots:
                    if not self.admission.taken(snapshot.run_id, self.runs):
                        self.admission.reserve(snapshot.run_id)
                        self.recovering.add(snapshot.run_id)
        finally:
            self.recovery_listed.set()
        try:
            for run_id in list(self.recovering):
                await self._recover_one(run_id)
        finally:
            for run_id in self.recovering:
                self.admission.release(run_id)

    async def _keep_leases(self, port: LeasedSnapshots) -> None:
        """The heartbeat: renew the leases of this node's runs (a run whose lease another
        node took stops here), then claim runs whose node stopped renewing or handed them
        over, and continue them like recovered runs. Beats every ``port.heartbeat`` seconds
        and whenever a node hands runs over. A store failure is logged and retried at the
        next beat; runs until the actor stops or ``heartbeat_scope`` is cancelled."""
        own = True  # at first, the runs of this process's earlier incarnation too
        key = release_notice(self.workflow.id)
        with self.heartbeat_scope:
            seen = await _woken(port, key, 0, 0)
            while True:
                claimed: list[RunSnapshot] = []
                try:
                    await self._renew(port)
                    claimed = await port.claim(self.workflow.id, limit=100, own=own)
                    own = False
                except (StoreError, ActorError) as exc:
                    log.warning("workflow %r: leases not kept this beat: %s", self.workflow.id, exc)
                finally:
                    self.recovery_listed.set()
                self._continue_claimed(claimed)
                seen = await _woken(port, key, seen, port.heartbeat)

    def _continue_claimed(self, claimed: list[RunSnapshot]) -> None:
        ids = [s.run_id for s in claimed if not self.admission.taken(s.run_id, self.runs)]
        for run_id in ids:
            log.info("workflow %r: took over run %r", self.workflow.id, run_id)
            self.admission.reserve(run_id)
            self.recovering.add(run_id)
        if ids:
            self.ctx.nursery.start_soon(self._recover_claimed, ids)

    async def _renew(self, port: LeasedSnapshots) -> None:
        live = ("running", "waiting")
        driving = [i for i, run in self.runs.items() if run.writer.saved_status in live]
        held = await port.renew(self.workflow.id, driving + list(self.recovering))
        for run_id in driving:
            run = self.runs.get(run_id)
            if run_id in held or run is None or run.writer.saving:
                continue  # a save in flight may have just ended or suspended it
            if run.writer.saved_status in live:
                log.warning("workflow %r: lost the lease of run %r", self.workflow.id, run_id)
                run.lose()
        self.recovering.intersection_update(held | set(self.runs))

    async def _watch_cancels(self, port: LeasedSnapshots) -> None:
        """Cancel this node's runs that a cancel sent to another node asked for, looking
        when that node's wake-up arrives and at every heartbeat while any run is live here.
        A store failure is logged and retried; runs until the actor stops."""
        key = cancel_notice(self.workflow.id, port.owner)
        seen = await _woken(port, key, 0, 0)
        while True:
            seen = await _woken(port, key, seen, port.heartbeat)
            if not self.runs:
                continue
            try:
                asked = await port.cancel_requests(self.workflow.id)
            except (StoreError, ActorError) as exc:
                log.warning("workflow %r: cancel requests not read: %s", self.workflow.id, exc)
                continue
            for run_id in asked:
                run = self.runs.get(run_id)
                if run is not None:
                    log.info("workflow %r: run %r canceled elsewhere", self.workflow.id, run_id)
                    run.scope.cancel()

    async def _hand_over(self, port: LeasedSnapshots) -> None:
        """As this actor stops: stop the heartbeat, stop driving every run here without
        saving more, and end their leases so that another node claims them at once and
        continues each from its last acknowledged save (instead of after the lease
        expired). A store failure is logged: the leases then expire as after a crash.
        Bounded by the actor's grace period, like every ``on_stop``; the callers waiting
        for those runs get ``ActorStopped``."""
        self.handing_over = True
        self.heartbeat_scope.cancel()
        ids = list(self.runs) + sorted(self.recovering)
        self.recovering.clear()  # those still waiting for a slot are not continued here
        for run in self.runs.values():
            run.lose(handing_over=True)
        await self.admission.idle()
        try:
            released = await port.release(self.workflow.id, ids)
        except (StoreError, ActorError) as exc:
            log.warning("workflow %r: runs not handed over: %s", self.workflow.id, exc)
            return
        if released:
            log.info("workflow %r: handed %d runs over", self.workflow.id, len(released))

    async def _recover_claimed(self, run_ids: list[str]) -> None:
        try:
            for run_id in run_ids:
                await self._recover_one(run_id)
        finally:
            for run_id in run_ids:
                self.admission.release(run_id)

    async def _recover_one(self, run_id: str) -> None:
        """Take a slot, re-read the run (it may have been canceled meanwhile), drive it."""
        try:
            await self.admission.enter()
            if run_id not in self.recovering:  # canceled while it waited for a slot
                self.admission.leave()
                return
            self.recovering.discard(run_id)
            try:
                snapshot = await self.port.load(self.workflow.id, run_id)
            except BaseException:
                self.admission.leave()
                raise
            if snapshot is None or snapshot.status not in ("running", "waiting"):
                self.admission.leave()
                return
            log.info("workflow %r: resuming run %r", self.workflow.id, run_id)
            run = self._registered(snapshot)
            run.writer.saved_status = snapshot.status  # what is stored: its lease is renewed
            await self._go(run, save=False)
        finally:
            self.admission.release(run_id)

    async def _until_recovered(self, run_id: str) -> None:
        """Wait while ``run_id`` is being started or is still to be recovered."""
        await self.recovery_listed.wait()
        await self.admission.released(run_id)


async def _woken(port: LeasedSnapshots, key: str, seen: int, timeout: float) -> int:  # noqa: ASYNC109
    """Wait for the wake-up ``key`` (its count moves past ``seen``) or ``timeout`` seconds;
    the count now. When the store cannot wait (it is down), just sleep ``timeout``."""
    try:
        return await port.notice(key, seen, timeout)
    except (StoreError, ActorError):
        await trio.sleep(timeout)
        return seen
