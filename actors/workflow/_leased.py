"""Snapshots behind leases, for workflows whose store several nodes share (Postgres).

``LeasedSnapshots`` is the ``SnapshotStore`` port of a workflow actor whose store answers
``LeaseSupport``: every save is made by this node (``owner``) and leases the run while it is
``running`` or ``waiting``; ``claim`` takes over runs whose node stopped renewing; ``renew``
is the heartbeat (the workflow actor drives both, see ``run``); ``release`` hands runs over
when this node stops; ``notice`` waits for the wake-ups other nodes send.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from actors.stores.lease_messages import (
    AwaitNotice,
    CancelRequests,
    ClaimRuns,
    LeaseSupport,
    ReleaseLeases,
    RenewLeases,
    RequestCancel,
    SaveLeasedRun,
)
from actors.workflow._persist import StoreSnapshots
from actors.workflow._snapshot import RunSnapshot, decode
from runtime import ActorRef, UnhandledMessage

__all__ = ["LeasedSnapshots", "leased_port", "node_name"]


_NODE = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def node_name() -> str:
    """This process's name as a lease owner: no other process shares it, now or later
    (the pid and a random part), and every incarnation of a workflow actor in this process
    uses it, so a restarted actor takes its runs back at once."""
    return _NODE


async def leased_port(store: ActorRef, lease_for: float) -> LeasedSnapshots | None:
    """A ``LeasedSnapshots`` on ``store`` if it keeps leases, else None (a SQLite store:
    one process, nothing to share). Store failures propagate."""
    try:
        supported = await store.ask(LeaseSupport())
    except UnhandledMessage:
        return None
    return LeasedSnapshots(store, node_name(), lease_for) if supported else None


class LeasedSnapshots(StoreSnapshots):
    """Snapshots saved by the node ``owner``, each save of a live run leasing it for
    ``lease_for`` seconds. A save of a run another node took over raises ``LeaseLost`` and
    writes nothing; other store errors propagate as in ``StoreSnapshots``."""

    def __init__(self, store: ActorRef, owner: str, lease_for: float) -> None:
        super().__init__(store)
        self.owner = owner
        self.lease_for = lease_for

    @property
    def heartbeat(self) -> float:
        """How often leases are renewed: a third of their length."""
        return self.lease_for / 3

    async def save(self, snapshot: RunSnapshot, data: Any) -> None:
        """Write the snapshot (leasing a live run to this node); returns after commit."""
        await self.store.ask(
            SaveLeasedRun(
                workflow_name=snapshot.workflow_id,
                run_id=snapshot.run_id,
                status=snapshot.status,
                snapshot=data,
                resource_id=snapshot.resource_id,
                owner=self.owner,
                lease_for=self.lease_for,
            )
        )

    async def claim(self, workflow_id: str, limit: int, *, own: bool) -> list[RunSnapshot]:
        """Lease to this node up to ``limit`` live runs whose lease expired (with ``own``,
        also those this process holds); their snapshots as last acknowledged."""
        records = await self.store.ask(
            ClaimRuns(
                workflow_name=workflow_id,
                owner=self.owner,
                lease_for=self.lease_for,
                limit=limit,
                own=own,
            )
        )
        return [decode(r.snapshot) for r in records]

    async def renew(self, workflow_id: str, run_ids: list[str]) -> set[str]:
        """Extend this node's leases on ``run_ids``; returns the ids it still holds."""
        if not run_ids:
            return set()
        held: list[str] = await self.store.ask(
            RenewLeases(
                workflow_name=workflow_id,
                owner=self.owner,
                run_ids=run_ids,
                lease_for=self.lease_for,
            )
        )
        return set(held)

    async def release(self, workflow_id: str, run_ids: list[str]) -> set[str]:
        """End this node's leases on ``run_ids`` now, waking the other nodes to claim them;
        returns the ids released."""
        if not run_ids:
            return set()
        released: list[str] = await self.store.ask(
            ReleaseLeases(workflow_name=workflow_id, owner=self.owner, run_ids=run_ids)
        )
        return set(released)

    async def notice(self, key: str, after: int, timeout: float) -> int:  # noqa: ASYNC109
        """The count of ``key``'s wake-ups once it differs from ``after``, or after ``timeout``
        seconds (see ``AwaitNotice``)."""
        count: int = await self.store.ask(AwaitNotice(key=key, after=after, timeout=timeout))
        return count

    async def request_cancel(self, workflow_id: str, run_id: str) -> bool:
        """Ask the node driving ``run_id`` to cancel it; False when it is not live."""
        asked: bool = await self.store.ask(RequestCancel(workflow_name=workflow_id, run_id=run_id))
        return asked

    async def cancel_requests(self, workflow_id: str) -> set[str]:
        """The ids of this node's live runs that another node asked to cancel."""
        ids: list[str] = await self.store.ask(
            CancelRequests(workflow_name=workflow_id, owner=self.owner)
        )
        return set(ids)
