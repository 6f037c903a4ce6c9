"""The store's read operations on Postgres: the same requests and replies as ``_reads``.

``run_pg_read`` runs inside one transaction of a pooled connection. Ids sort by code point
(``COLLATE "C"``), as they do in SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, assert_never

from actors.stores._errors import InvalidRequest
from actors.stores._pg import Conn, PgDatabase, fetch_row
from actors.stores._reads import (
    _RUN_COLUMNS,
    MESSAGE_COLUMNS,
    _run_row,
    message_row,
    resource_row,
    thread_row,
)
from actors.stores._sql import Failure, load_json
from actors.stores.messages import (
    CheckIntegrity,
    Get,
    GetMessages,
    GetMessagesById,
    GetResource,
    GetThread,
    GetWorkflowRun,
    GetWorkingMemory,
    ListRecords,
    ListThreads,
    ListWorkflowRuns,
    LoadThread,
    MessageRecord,
    Record,
    StoreRead,
    WorkflowRunPage,
)

__all__ = ["BatchedRead", "BatchedReads", "run_pg_read"]

_THREAD_COLUMNS = "id, resource_id, title, metadata, created_at, updated_at"


def _page(limit: int | None, offset: int) -> tuple[int | None, int]:
    if limit is not None and limit < 0:
        raise InvalidRequest(f"`limit` must be >= 0, got {limit}")
    if offset < 0:
        raise InvalidRequest(f"`offset` must be >= 0, got {offset}")
    return limit, offset


def run_pg_read(conn: Conn, op: StoreRead) -> object:  # noqa: PLR0911, PLR0912 - one per type
    """Run one read and return its reply value."""
    match op:
        case Get():
            row = conn.execute(
                "SELECT data, created_at, updated_at FROM mastra_records"
                " WHERE collection = %s AND id = %s",
                (op.collection, op.id),
            ).fetchone()
            if row is None:
                return None
            data = load_json(row[0])
            return Record(
                collection=op.collection, id=op.id, data=data, created_at=row[1], updated_at=row[2]
            )
        case ListRecords():
            return _list_records(conn, op)
        case GetThread():
            row = conn.execute(
                f"SELECT {_THREAD_COLUMNS} FROM mastra_threads WHERE id = %s", (op.thread_id,)
            ).fetchone()
            return None if row is None else thread_row(row)
        case ListThreads():
            limit, offset = _page(op.limit, op.offset)
            rows = conn.execute(
                f"SELECT {_THREAD_COLUMNS} FROM mastra_threads WHERE resource_id = %s"
                ' ORDER BY created_at DESC, id COLLATE "C" LIMIT %s OFFSET %s',
                (op.resource_id, limit, offset),
            ).fetchall()
            return [thread_row(r) for r in rows]
        case GetMessages():
            return _messages(conn, op)
        case GetMessagesById():
            return _messages_by_id(conn, op)
        case GetResource():
            row = conn.execute(
                "SELECT id, working_memory, metadata, created_at, updated_at"
                " FROM mastra_resources WHERE id = %s",
                (op.resource_id,),
            ).fetchone()
            return None if row is None else resource_row(row)
        case GetWorkingMemory():
            table = "mastra_threads" if op.scope == "thread" else "mastra_resources"
            row = conn.execute(
                f"SELECT working_memory FROM {table} WHERE id = %s", (op.id,)
            ).fetchone()
            return None if row is None else row[0]
        case GetWorkflowRun():
            return _get_runs(conn, [(0, op)])[0]
        case ListWorkflowRuns():
            return _list_runs(conn, op)
        case CheckIntegrity():
            fetch_row(conn, "SELECT 1")
            return ["ok"]
        case _:
            assert_never(op)


def _list_records(conn: Conn, op: ListRecords) -> list[Record]:
    limit, offset = _page(op.limit, op.offset)
    pattern = op.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT id, data, created_at, updated_at FROM mastra_records WHERE collection = %s"
        " AND id LIKE %s ESCAPE '\\' ORDER BY id COLLATE \"C\" LIMIT %s OFFSET %s",
        (op.collection, pattern, limit, offset),
    ).fetchall()
    return [
        Record(
            collection=op.collection,
            id=r[0],
            data=load_json(r[1]),
            created_at=r[2],
            updated_at=r[3],
        )
        for r in rows
    ]


def _messages(conn: Conn, op: GetMessages) -> list[MessageRecord]:
    if op.last is None:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = %s"
            " ORDER BY created_at, seq",
            (op.thread_id,),
        ).fetchall()
        return [message_row(r) for r in rows]
    limit, _ = _page(op.last, 0)
    newest = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = %s"
        " ORDER BY created_at DESC, seq DESC LIMIT %s",
        (op.thread_id, limit),
    ).fetchall()
    return [message_row(r) for r in reversed(newest)]


_LOAD_THREADS = (
    "SELECT q.n, t.id IS NOT NULL, m.* FROM unnest(%s::text[], %s::int[]) WITH ORDINALITY"
    " AS q(thread_id, last, n) LEFT JOIN mastra_threads t ON t.id = q.thread_id"
    f" LEFT JOIN LATERAL (SELECT {MESSAGE_COLUMNS} FROM mastra_messages"
    " WHERE thread_id = q.thread_id ORDER BY created_at DESC, seq DESC LIMIT q.last) m"
    " ON true ORDER BY q.n, m.created_at DESC, m.seq DESC"
)


_GET_RUNS = (
    f"SELECT q.n, {', '.join('w.' + c for c in _RUN_COLUMNS.split(', '))}"
    " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS q(workflow_name, run_id, n)"
    " JOIN mastra_workflow_runs w"
    " ON w.workflow_name = q.workflow_name AND w.run_id = q.run_id"
)

BatchedRead = LoadThread | GetWorkflowRun


class BatchedReads:
    """Answers a batch of the reads every turn or run start makes, each kind with one
    statement: ``LoadThread`` with the op's messages (as ``GetMessages``) when its thread
    exists, else None (the caller creates the thread), and ``GetWorkflowRun`` as
    ``run_pg_read`` does. A ``BatchDatabase`` for a ``GroupCommitWriter`` that batches
    reads: nothing is written and no transaction is opened. A malformed op fails alone;
    ``StoreUnavailable`` fails the batch."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def write_batch(self, ops: Sequence[BatchedRead], apply: Any = None) -> list[object]:
        """One outcome per op (see the class docstring); ``apply`` is not used."""
        outcomes: dict[int, object] = {}
        loads: list[tuple[int, LoadThread]] = []
        runs: list[tuple[int, GetWorkflowRun]] = []
        for index, op in enumerate(ops):
            if isinstance(op, GetWorkflowRun):
                runs.append((index, op))
                continue
            try:
                _page(op.last, 0)
                loads.append((index, op))
            except InvalidRequest as exc:
                outcomes[index] = Failure(exc)
        with self._db.connection() as conn:
            if loads:
                outcomes.update(_load_threads(conn, loads))
            if runs:
                outcomes.update(_get_runs(conn, runs))
        return [outcomes[i] for i in range(len(ops))]


def _load_threads(conn: Conn, loads: list[tuple[int, LoadThread]]) -> dict[int, object]:
    rows = conn.execute(
        _LOAD_THREADS, ([op.thread_id for _, op in loads], [op.last for _, op in loads])
    ).fetchall()
    found: dict[int, list[MessageRecord] | None] = {}
    for row in rows:
        n, exists = row[0] - 1, row[1]
        messages = found.setdefault(n, [] if exists else None)
        if messages is not None and row[2] is not None:
            messages.append(message_row(row[2:]))
    outcomes: dict[int, object] = {}
    for n, (index, _) in enumerate(loads):
        messages = found.get(n)
        outcomes[index] = None if messages is None else messages[::-1]
    return outcomes


def _get_runs(conn: Conn, runs: list[tuple[int, GetWorkflowRun]]) -> dict[int, object]:
    rows = conn.execute(
        _GET_RUNS, ([op.workflow_name for _, op in runs], [op.run_id for _, op in runs])
    ).fetchall()
    found = {row[0] - 1: _run_row(row[1:]) for row in rows}
    return {index: found.get(n) for n, (index, _) in enumerate(runs)}


def _messages_by_id(conn: Conn, op: GetMessagesById) -> list[MessageRecord]:
    if op.before < 0 or op.after < 0:
        raise InvalidRequest("`before` and `after` must be >= 0")
    found: dict[str, MessageRecord] = {}
    for message_id in op.ids:
        row = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE id = %s", (message_id,)
        ).fetchone()
        if row is None:
            continue
        hit = message_row(row)
        key = (hit.created_at, hit.seq)
        earlier = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = %s"
            " AND (created_at, seq) < (%s, %s) ORDER BY created_at DESC, seq DESC LIMIT %s",
            (hit.thread_id, *key, op.before),
        ).fetchall()
        later = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = %s"
            " AND (created_at, seq) > (%s, %s) ORDER BY created_at, seq LIMIT %s",
            (hit.thread_id, *key, op.after),
        ).fetchall()
        for m in [hit, *(message_row(r) for r in earlier), *(message_row(r) for r in later)]:
            found[m.id] = m
    return sorted(found.values(), key=lambda m: (m.thread_id, m.created_at, m.seq))


def _list_runs(conn: Conn, op: ListWorkflowRuns) -> WorkflowRunPage:
    limit, offset = _page(op.limit, op.offset)
    clauses: list[str] = []
    args: list[Any] = []
    for column, value, cmp in (
        ("workflow_name", op.workflow_name, "="),
        ("status", op.status, "="),
        ("resource_id", op.resource_id, "="),
        ("created_at", op.from_date, ">="),
        ("created_at", op.to_date, "<="),
    ):
        if value is not None:
            clauses.append(f"{column} {cmp} %s")
            args.append(value)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    total = fetch_row(conn, f"SELECT count(*) FROM mastra_workflow_runs{where}", args)[0]
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM mastra_workflow_runs{where}"
        ' ORDER BY created_at DESC, run_id COLLATE "C" LIMIT %s OFFSET %s',
        [*args, limit, offset],
    ).fetchall()
    return WorkflowRunPage(runs=[_run_row(r) for r in rows], total=int(total))
