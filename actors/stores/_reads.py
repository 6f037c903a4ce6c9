"""The store's read operations and the row-to-record conversions shared with the writes.

``run_read`` is called by ``Database.read`` with a reader connection inside one read
transaction, so a multi-statement read (a page and its total) sees one snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, assert_never

import apsw

from actors.stores._errors import InvalidRequest
from actors.stores._sql import Database, Failure, fetch_one, load_json
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
    MessageRecord,
    Record,
    ResourceRecord,
    StoreRead,
    ThreadRecord,
    WorkflowRunPage,
    WorkflowRunRecord,
)

__all__ = [
    "MESSAGE_COLUMNS",
    "BatchedPointReads",
    "message_row",
    "message_rows",
    "messages_of",
    "resource_row",
    "run_read",
    "thread_row",
]

MESSAGE_COLUMNS = "id, thread_id, resource_id, role, content, type, importance, created_at, seq"
_RUN_COLUMNS = "workflow_name, run_id, status, snapshot, resource_id, created_at, updated_at"


def thread_row(row: Sequence[Any]) -> ThreadRecord:
    """A ``ThreadRecord`` from (id, resource_id, title, metadata, created_at, updated_at)."""
    return ThreadRecord(
        id=row[0],
        resource_id=row[1],
        title=row[2],
        metadata=load_json(row[3]),
        created_at=row[4],
        updated_at=row[5],
    )


def message_row(row: Sequence[Any]) -> MessageRecord:
    """A ``MessageRecord`` from a row of ``MESSAGE_COLUMNS``."""
    return MessageRecord(
        id=row[0],
        thread_id=row[1],
        resource_id=row[2],
        role=row[3],
        content=load_json(row[4]),
        type=row[5],
        importance=row[6],
        created_at=row[7],
        seq=row[8],
    )


def message_rows(rows: Iterable[Sequence[Any]]) -> list[MessageRecord]:
    """``message_row`` over many rows."""
    return [message_row(r) for r in rows]


def resource_row(row: Sequence[Any]) -> ResourceRecord:
    """A ``ResourceRecord`` from (id, working_memory, metadata, created_at, updated_at)."""
    return ResourceRecord(
        id=row[0],
        working_memory=row[1],
        metadata=load_json(row[2]),
        created_at=row[3],
        updated_at=row[4],
    )


def _run_row(row: Sequence[Any]) -> WorkflowRunRecord:
    return WorkflowRunRecord(
        workflow_name=row[0],
        run_id=row[1],
        status=row[2],
        snapshot=load_json(row[3]),
        resource_id=row[4],
        created_at=row[5],
        updated_at=row[6],
    )


def _page(limit: int | None, offset: int) -> tuple[int, int]:
    if limit is not None and limit < 0:
        raise InvalidRequest(f"`limit` must be >= 0, got {limit}")
    if offset < 0:
        raise InvalidRequest(f"`offset` must be >= 0, got {offset}")
    return (-1 if limit is None else limit), offset


def run_read(conn: apsw.Connection, op: StoreRead) -> object:  # noqa: PLR0911 - one per type
    """Run one read and return its reply value."""
    match op:
        case Get():
            row = conn.execute(
                "SELECT data, created_at, updated_at FROM records WHERE collection = ? AND id = ?",
                (op.collection, op.id),
            ).fetchone()
            return (
                None
                if row is None
                else Record(
                    collection=op.collection,
                    id=op.id,
                    data=load_json(row[0]),
                    created_at=row[1],
                    updated_at=row[2],
                )
            )
        case ListRecords():
            return _list_records(conn, op)
        case GetThread():
            row = conn.execute(
                "SELECT id, resource_id, title, metadata, created_at, updated_at FROM threads"
                " WHERE id = ?",
                (op.thread_id,),
            ).fetchone()
            return None if row is None else thread_row(row)
        case ListThreads():
            limit, offset = _page(op.limit, op.offset)
            rows = conn.execute(
                "SELECT id, resource_id, title, metadata, created_at, updated_at FROM threads"
                " WHERE resource_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                (op.resource_id, limit, offset),
            )
            return [thread_row(r) for r in rows]
        case GetMessages():
            return messages_of(conn, op)
        case GetMessagesById():
            return _messages_by_id(conn, op)
        case GetResource():
            row = conn.execute(
                "SELECT id, working_memory, metadata, created_at, updated_at FROM resources"
                " WHERE id = ?",
                (op.resource_id,),
            ).fetchone()
            return None if row is None else resource_row(row)
        case GetWorkingMemory():
            table = "threads" if op.scope == "thread" else "resources"
            row = conn.execute(
                f"SELECT working_memory FROM {table} WHERE id = ?", (op.id,)
            ).fetchone()
            return None if row is None else row[0]
        case GetWorkflowRun():
            row = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM workflow_runs WHERE workflow_name = ? AND run_id = ?",
                (op.workflow_name, op.run_id),
            ).fetchone()
            return None if row is None else _run_row(row)
        case ListWorkflowRuns():
            return _list_runs(conn, op)
        case CheckIntegrity():
            return [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        case _:
            assert_never(op)


def _list_records(conn: apsw.Connection, op: ListRecords) -> list[Record]:
    limit, offset = _page(op.limit, op.offset)
    pattern = op.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT id, data, created_at, updated_at FROM records WHERE collection = ?"
        " AND id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ? OFFSET ?",
        (op.collection, pattern, limit, offset),
    )
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


def messages_of(conn: apsw.Connection, op: GetMessages) -> list[MessageRecord]:
    """The messages ``op`` asks for, oldest first (``InvalidRequest`` for a negative ``last``)."""
    if op.last is None:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY created_at, seq",
            (op.thread_id,),
        )
        return message_rows(rows)
    limit, _ = _page(op.last, 0)
    newest = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?"
        " ORDER BY created_at DESC, seq DESC LIMIT ?",
        (op.thread_id, limit),
    ).fetchall()
    return message_rows(reversed(newest))


def _messages_by_id(conn: apsw.Connection, op: GetMessagesById) -> list[MessageRecord]:
    if op.before < 0 or op.after < 0:
        raise InvalidRequest("`before` and `after` must be >= 0")
    found: dict[str, MessageRecord] = {}
    for message_id in op.ids:
        row = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            continue
        hit = message_row(row)
        key = (hit.created_at, hit.seq)
        earlier = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?"
            " AND (created_at, seq) < (?, ?) ORDER BY created_at DESC, seq DESC LIMIT ?",
            (hit.thread_id, *key, op.before),
        )
        later = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?"
            " AND (created_at, seq) > (?, ?) ORDER BY created_at, seq LIMIT ?",
            (hit.thread_id, *key, op.after),
        )
        for m in [hit, *message_rows(earlier), *message_rows(later)]:
            found[m.id] = m
    return sorted(found.values(), key=lambda m: (m.thread_id, m.created_at, m.seq))


def _list_runs(conn: apsw.Connection, op: ListWorkflowRuns) -> WorkflowRunPage:
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
            clauses.append(f"{column} {cmp} ?")
            args.append(value)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    total = fetch_one(conn, f"SELECT count(*) FROM workflow_runs{where}", args)[0]
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM workflow_runs{where}"
        " ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return WorkflowRunPage(runs=[_run_row(r) for r in rows], total=int(total))


class BatchedPointReads:
    """Answers a batch of small reads (``GetWorkflowRun``: every run start with an id makes
    one) on one reader connection in one snapshot, each as ``run_read`` does. A
    ``BatchDatabase`` for a ``GroupCommitWriter`` that batches reads: concurrent callers
    share one thread hand-off instead of one each. A malformed op fails alone; a database
    failure fails the batch."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write_batch(self, ops: Sequence[StoreRead], apply: Any = None) -> list[object]:
        """One outcome per op; ``apply`` is not used."""
        return self._db.read(lambda conn: [_read_alone(conn, op) for op in ops])


def _read_alone(conn: apsw.Connection, op: StoreRead) -> object:
    try:
        return run_read(conn, op)
    except InvalidRequest as exc:
        return Failure(exc)
