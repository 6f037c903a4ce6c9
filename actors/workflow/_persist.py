"""Where snapshots go: a port with a store-actor and an in-memory implementation, and the
per-run writer that coalesces saves.

``StoreSnapshots`` talks to the SQLite store actor (``SaveWorkflowRun`` is acknowledged only
after its transaction committed). ``MemorySnapshots`` keeps runs in this process only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import trio

from actors.stores.messages import (
    GetWorkflowRun,
    ListWorkflowRuns,
    PruneWorkflowRuns,
    SaveWorkflowRun,
    WorkflowRunPage,
    WorkflowRunRecord,
)
from actors.workflow._snapshot import TERMINAL, RunSnapshot, RunStatus, decode, encode, now_ms
from runtime import ActorRef

__all__ = [
    "PRUNE_BATCH",
    "MemorySnapshots",
    "RunQuery",
    "SnapshotStore",
    "SnapshotWriter",
    "StoreSnapshots",
]

PRUNE_BATCH = 500
"""Most finished runs one store transaction deletes when old runs are pruned."""


@dataclass(frozen=True)
class RunQuery:
    """Filters and paging for listing runs (newest first); dates are epoch seconds."""

    status: RunStatus | None = None
    resource_id: str | None = None
    from_date: float | None = None
    to_date: float | None = None
    limit: int | None = None
    offset: int = 0


class SnapshotStore(Protocol):
    """Persistence of run snapshots. ``save`` returns only once the snapshot is durable."""

    async def save(self, snapshot: RunSnapshot, data: Any) -> None: ...

    async def load(self, workflow_id: str, run_id: str) -> RunSnapshot | None: ...

    async def list(self, workflow_id: str, query: RunQuery) -> tuple[list[RunSnapshot], int]: ...

    async def prune(self, workflow_id: str, older_than: float) -> int:
        """Delete the workflow's finished runs last saved before ``older_than`` (epoch
        seconds); returns how many. Runs that may still continue are kept."""
        ...


class StoreSnapshots:
    """Snapshots in the store actor's ``workflow_runs`` table.

    Store errors (``StoreError``) and ``ActorStopped``/``ActorCrashed`` propagate; a
    cancelled save may or may not have committed.
    """

    def __init__(self, store: ActorRef) -> None:
        self.store = store

    async def save(self, snapshot: RunSnapshot, data: Any) -> None:
        """Write the snapshot and wait for the store's acknowledgement (after commit)."""
        await self.store.ask(
            SaveWorkflowRun(
                workflow_name=snapshot.workflow_id,
                run_id=snapshot.run_id,
                status=snapshot.status,
                snapshot=data,
                resource_id=snapshot.resource_id,
            )
        )

    async def load(self, workflow_id: str, run_id: str) -> RunSnapshot | None:
        """The latest acknowledged snapshot of the run, or None."""
        record: WorkflowRunRecord | None = await self.store.ask(
            GetWorkflowRun(workflow_name=workflow_id, run_id=run_id)
        )
        return None if record is None else decode(record.snapshot)

    async def list(self, workflow_id: str, query: RunQuery) -> tuple[list[RunSnapshot], int]:
        """One page of the workflow's runs, newest first, and the total matching."""
        page: WorkflowRunPage = await self.store.ask(
            ListWorkflowRuns(
                workflow_name=workflow_id,
                status=query.status,
                resource_id=query.resource_id,
                from_date=query.from_date,
                to_date=query.to_date,
                limit=query.limit,
                offset=query.offset,
            )
        )
        return [decode(r.snapshot) for r in page.runs], page.total

    async def prune(self, workflow_id: str, older_than: float) -> int:
        """Delete in batches of ``PRUNE_BATCH`` runs, one transaction each, so that the
        store's other writes go on meanwhile. Cancelled between batches: the batches
        already acknowledged stay deleted."""
        deleted = 0
        while True:
            request = PruneWorkflowRuns(
                workflow_name=workflow_id, older_than=older_than, limit=PRUNE_BATCH
            )
            count: int = await self.store.ask(request)
            deleted += count
            if count < PRUNE_BATCH:
                return deleted


class MemorySnapshots:
    """Snapshots in a dict of this process (copies, so later changes do not leak in)."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], Any] = {}

    async def save(self, snapshot: RunSnapshot, data: Any) -> None:
        """Keep a copy; never blocks."""
        await trio.lowlevel.checkpoint()
        self._runs[snapshot.workflow_id, snapshot.run_id] = data

    async def load(self, workflow_id: str, run_id: str) -> RunSnapshot | None:
        """The saved copy, or None."""
        await trio.lowlevel.checkpoint()
        data = self._runs.get((workflow_id, run_id))
        return None if data is None else decode(data)

    async def list(self, workflow_id: str, query: RunQuery) -> tuple[list[RunSnapshot], int]:
        """Runs of the workflow matching the query, newest first."""
        await trio.lowlevel.checkpoint()
        found = [decode(d) for (wid, _), d in self._runs.items() if wid == workflow_id]
        found = [s for s in found if _matches(s, query)]
        found.sort(key=lambda s: s.created_at, reverse=True)
        end = None if query.limit is None else query.offset + query.limit
        return found[query.offset : end], len(found)

    async def prune(self, workflow_id: str, older_than: float) -> int:
        """Drop the workflow's finished runs last saved before ``older_than``."""
        await trio.lowlevel.checkpoint()
        cutoff = older_than * 1000
        old = [
            key
            for key, data in self._runs.items()
            if key[0] == workflow_id
            and data.get("status") in TERMINAL
            and data.get("updatedAt", 0) < cutoff
        ]
        for key in old:
            del self._runs[key]
        return len(old)


def _matches(snapshot: RunSnapshot, query: RunQuery) -> bool:
    created = snapshot.created_at / 1000
    return (
        (query.status is None or snapshot.status == query.status)
        and (query.resource_id is None or snapshot.resource_id == query.resource_id)
        and (query.from_date is None or created >= query.from_date)
        and (query.to_date is None or created <= query.to_date)
    )


class SnapshotWriter:
    """Saves one run's snapshot, coalescing concurrent requests into as few writes as possible.

    ``commit()`` returns once a save that started after the call was acknowledged, so
    everything changed before the call is durable. ``flush_soon()`` starts a save unless one
    is running and does not wait for a running one. A failed save raises in the caller that
    ran it; callers waiting on it retry with a save of their own. Cancellation abandons the
    wait; a save already sent may still commit.
    """

    def __init__(self, store: SnapshotStore, snapshot: RunSnapshot) -> None:
        self.store = store
        self.snapshot = snapshot
        self.writes = 0
        self.saved_status: str | None = None
        self._requested = 0
        self._acked = 0
        self._busy = False
        self._changed: trio.Event | None = None  # made by the first waiter of a save

    @property
    def saving(self) -> bool:
        """Whether a save is on its way to the store (not acknowledged yet)."""
        return self._busy

    async def commit(self) -> None:
        """Make every change made so far durable."""
        self._requested += 1
        target = self._requested
        while self._acked < target:
            if self._busy:
                if self._changed is None:
                    self._changed = trio.Event()
                await self._changed.wait()
            else:
                await self._write()

    async def flush_soon(self) -> None:
        """Save now unless a save is already running (then return at once)."""
        self._requested += 1
        if self._busy:
            await trio.lowlevel.checkpoint()
            return
        await self._write()

    async def _write(self) -> None:
        self._busy = True
        version = self._requested
        try:
            snapshot = self.snapshot
            snapshot.updated_at = now_ms()
            status = snapshot.status
            await self.store.save(snapshot, encode(snapshot))
            self.saved_status = status
            self.writes += 1
            self._acked = max(self._acked, version)
        finally:
            self._busy = False
            changed, self._changed = self._changed, None
            if changed is not None:
                changed.set()
