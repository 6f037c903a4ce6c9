"""Leases on workflow runs in Postgres (see ``lease_messages``), applied by the store's
group-commit writer like every other write. A cancel request and a release notify the
nodes concerned when their transaction commits (see ``_pgnotify``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import assert_never

from actors.stores._errors import InvalidRequest, LeaseLost
from actors.stores._pg import Conn
from actors.stores._pgnotify import notify
from actors.stores._reads import _RUN_COLUMNS, _run_row
from actors.stores._sql import dump_json
from actors.stores.lease_messages import (
    CancelRequests,
    ClaimRuns,
    LeaseWrite,
    ReleaseLeases,
    RenewLeases,
    RequestCancel,
    SaveLeasedRun,
    cancel_notice,
    release_notice,
)
from actors.stores.messages import WorkflowRunRecord

__all__ = ["apply_lease_write", "save_leased_runs_together"]

_NOW = "extract(epoch from clock_timestamp())"
_LIVE = "('running', 'waiting')"


def apply_lease_write(conn: Conn, op: LeaseWrite) -> object:
    """Apply one lease write inside the writer's transaction; return its reply."""
    if isinstance(op, (SaveLeasedRun, ClaimRuns, RenewLeases)) and op.lease_for < 0:
        raise InvalidRequest(f"`lease_for` must be >= 0 seconds, got {op.lease_for}")
    match op:
        case SaveLeasedRun():
            return save_leased_runs_together(conn, [op])[0]
        case ClaimRuns():
            if op.limit < 1:
                raise InvalidRequest(f"`limit` must be >= 1, got {op.limit}")
            rows = conn.execute(
                f"UPDATE mastra_workflow_runs SET owner = %s, lease_until = {_NOW} + %s"
                " WHERE (workflow_name, run_id) IN (SELECT workflow_name, run_id"
                f" FROM mastra_workflow_runs WHERE workflow_name = %s AND status IN {_LIVE}"
                f" AND (lease_until IS NULL OR lease_until < {_NOW} OR (%s AND owner = %s))"
                " ORDER BY updated_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                f" RETURNING {_RUN_COLUMNS}",
                (op.owner, op.lease_for, op.workflow_name, op.own, op.owner, op.limit),
            ).fetchall()
            return [_run_row(r) for r in rows]
        case RenewLeases():
            rows = conn.execute(
                f"UPDATE mastra_workflow_runs SET lease_until = {_NOW} + %s"
                " WHERE workflow_name = %s AND owner = %s AND run_id = ANY(%s)"
                f" AND status IN {_LIVE} RETURNING run_id",
                (op.lease_for, op.workflow_name, op.owner, op.run_ids),
            ).fetchall()
            return sorted(r[0] for r in rows)
        case ReleaseLeases():
            rows = conn.execute(
                "UPDATE mastra_workflow_runs SET lease_until = NULL"
                " WHERE workflow_name = %s AND owner = %s AND run_id = ANY(%s)"
                f" AND status IN {_LIVE} RETURNING run_id",
                (op.workflow_name, op.owner, op.run_ids),
            ).fetchall()
            if rows:
                notify(conn, release_notice(op.workflow_name))
            return sorted(r[0] for r in rows)
        case RequestCancel():
            flagged = conn.execute(
                "UPDATE mastra_workflow_runs SET cancel_requested = true"
                f" WHERE workflow_name = %s AND run_id = %s AND status IN {_LIVE}"
                " RETURNING owner",
                (op.workflow_name, op.run_id),
            ).fetchall()
            for (owner,) in flagged:
                if owner is not None:
                    notify(conn, cancel_notice(op.workflow_name, owner))
            return bool(flagged)
        case CancelRequests():
            rows = conn.execute(
                "SELECT run_id FROM mastra_workflow_runs WHERE workflow_name = %s"
                f" AND owner = %s AND cancel_requested AND status IN {_LIVE}",
                (op.workflow_name, op.owner),
            ).fetchall()
            return sorted(r[0] for r in rows)
        case _:
            assert_never(op)


_SAVE_RUNS = (
    "INSERT INTO mastra_workflow_runs AS w (workflow_name, run_id, status, snapshot,"
    " resource_id, created_at, updated_at, owner, lease_until)"
    " SELECT workflow_name, run_id, status, snapshot, resource_id, %s, %s, owner,"
    f" CASE WHEN status IN {_LIVE} THEN {_NOW} + lease_for END"
    " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::float8[]) AS r(workflow_name, run_id, status, snapshot, resource_id, owner, lease_for)"
    " ON CONFLICT (workflow_name, run_id) DO UPDATE SET status = excluded.status,"
    " snapshot = excluded.snapshot,"
    " resource_id = coalesce(excluded.resource_id, w.resource_id),"
    " updated_at = excluded.updated_at, owner = excluded.owner,"
    " lease_until = excluded.lease_until"
    # another node's live run is left alone: its row is missing from what is returned
    f" WHERE w.owner IS NULL OR w.owner = excluded.owner OR w.status NOT IN {_LIVE}"
    " RETURNING workflow_name, run_id, created_at, updated_at, resource_id"
)


def save_leased_runs_together(conn: Conn, ops: Sequence[SaveLeasedRun]) -> list[object]:
    """Save runs in one statement; one ``WorkflowRunRecord`` per op. The row keeps the
    saving node as ``owner`` and, while the run is live, a lease. Raises ``LeaseLost``
    (nothing of that op written) when another node holds a run's lease, and
    ``InvalidRequest`` for a malformed op or a run saved twice in ``ops``; a caller with
    several ops then applies them one by one, so that only the refused one fails."""
    for op in ops:
        if not op.workflow_name or not op.run_id or not op.owner:
            raise InvalidRequest("`workflow_name`, `run_id` and `owner` must be non-empty strings")
        if op.lease_for < 0:
            raise InvalidRequest(f"`lease_for` must be >= 0 seconds, got {op.lease_for}")
    if len({(op.workflow_name, op.run_id) for op in ops}) < len(ops):
        raise InvalidRequest("one run saved twice in one statement")
    now = time.time()
    columns = [
        [op.workflow_name for op in ops],
        [op.run_id for op in ops],
        [op.status for op in ops],
        [dump_json(op.snapshot, "snapshot") for op in ops],
        [op.resource_id for op in ops],
        [op.owner for op in ops],
        [op.lease_for for op in ops],
    ]
    rows = conn.execute(_SAVE_RUNS, (now, now, *columns)).fetchall()
    saved = {(r[0], r[1]): r for r in rows}
    records: list[object] = []
    for op in ops:
        row = saved.get((op.workflow_name, op.run_id))
        if row is None:
            raise LeaseLost(
                f"workflow run {op.run_id!r} of {op.workflow_name!r} is leased to another node"
            )
        records.append(
            WorkflowRunRecord(
                workflow_name=op.workflow_name,
                run_id=op.run_id,
                status=op.status,
                snapshot=op.snapshot,
                resource_id=row[4],
                created_at=row[2],
                updated_at=row[3],
            )
        )
    return records
