"""Leases on workflow runs, for stores that several nodes share (``PostgresStore``).

A node drives a run only while it holds the run's lease: the save that puts a run in
``running`` or ``waiting`` takes (or keeps) the lease for ``lease_for`` seconds, a heartbeat
renews it, and the save that ends or suspends the run gives it up. A node that stops
renewing (it died) loses its runs when their leases expire: ``ClaimRuns`` hands them to
another node (``SELECT ... FOR UPDATE SKIP LOCKED``, so two claimers never get the same run),
which continues each from its last acknowledged snapshot. A save from a node whose run was
taken over fails with ``LeaseLost`` and writes nothing. Lease times are the database's
clock, so the nodes' clocks need not agree. A cancel that reaches a node not driving the
run is recorded with ``RequestCancel``; the driving node reads its ``CancelRequests``
and cancels those runs. A node that stops gracefully gives its runs up with
``ReleaseLeases``, so another node claims them at once instead of after their expiry.

Both wake the node concerned through the store (``AwaitNotice`` on ``cancel_notice`` and
``release_notice``: Postgres ``LISTEN``/``NOTIFY``); nodes also look every heartbeat, so a
lost wake-up costs time, never a run.

A store that does not handle these (``SqliteStore``: one process, nothing to share) refuses
``LeaseSupport`` with ``UnhandledMessage``; workflows then save without leases.
"""

from __future__ import annotations

from typing import Any

import msgspec

from actors.stores.messages import WorkflowStatus

__all__ = [
    "AwaitNotice",
    "CancelRequests",
    "ClaimRuns",
    "LeaseRequest",
    "LeaseSupport",
    "LeaseWrite",
    "ReleaseLeases",
    "RenewLeases",
    "RequestCancel",
    "SaveLeasedRun",
    "cancel_notice",
    "release_notice",
]


def cancel_notice(workflow_name: str, owner: str) -> str:
    """The notice sent when one of ``owner``'s runs of the workflow is asked to cancel."""
    return f"cancel:{workflow_name}:{owner}"


def release_notice(workflow_name: str) -> str:
    """The notice sent when a node gave up its leases on runs of the workflow."""
    return f"release:{workflow_name}"


class LeaseSupport(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Replies True: this store keeps leases on workflow runs."""


class SaveLeasedRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """``SaveWorkflowRun`` by the node ``owner``: a ``running``/``waiting`` run is leased to
    it for ``lease_for`` seconds, any other status frees the lease. Raises ``LeaseLost``
    when another node holds the run. Replies the ``WorkflowRunRecord``."""

    workflow_name: str
    run_id: str
    status: WorkflowStatus
    snapshot: Any
    owner: str
    lease_for: float
    resource_id: str | None = None


class ClaimRuns(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Lease to ``owner`` up to ``limit`` of the workflow's ``running``/``waiting`` runs
    whose lease expired (or that never had one), and with ``own`` those ``owner`` holds
    already (a restarted workflow actor takes its process's runs back at once); replies
    their ``WorkflowRunRecord`` list."""

    workflow_name: str
    owner: str
    lease_for: float
    limit: int = 100
    own: bool = False


class RenewLeases(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Extend ``owner``'s leases on ``run_ids`` by ``lease_for`` seconds from now; replies
    the ids it still holds (the others were taken over or ended)."""

    workflow_name: str
    owner: str
    run_ids: list[str]
    lease_for: float


class RequestCancel(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Ask whichever node drives the run to cancel it (its heartbeat sees the request);
    replies True when a ``running``/``waiting`` run was asked, False otherwise."""

    workflow_name: str
    run_id: str


class ReleaseLeases(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """End ``owner``'s leases on ``run_ids`` now, so any node may claim those runs at
    once (a node that stops gracefully); replies the ids it released."""

    workflow_name: str
    owner: str
    run_ids: list[str]


class AwaitNotice(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Reply the count of notices ``key`` received by this store, once it differs from
    ``after`` or ``timeout`` seconds passed. The first await of a key starts its count at
    0 (send it with ``timeout=0`` before the look it should wake up). Not a write."""

    key: str
    after: int = 0
    timeout: float = 0.0


class CancelRequests(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The ids of ``owner``'s live runs that were asked to cancel (``RequestCancel``)."""

    workflow_name: str
    owner: str


LeaseWrite = (
    SaveLeasedRun | ClaimRuns | RenewLeases | ReleaseLeases | RequestCancel | CancelRequests
)
LeaseRequest = LeaseWrite | LeaseSupport | AwaitNotice
