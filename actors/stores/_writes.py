"""The store's write operations, each applied on the writer connection inside a transaction.

``apply_write`` is called by ``Database.write_batch`` (one savepoint per op). It raises
``StoreError`` subclasses for bad requests; the batch rolls back only that op.
"""

from __future__ import annotations

import time
from typing import Any, assert_never

import apsw

from actors.stores._errors import InvalidRequest, NotFound
from actors.stores._reads import (
    MESSAGE_COLUMNS,
    message_row,
    message_rows,
    messages_of,
    resource_row,
    thread_row,
)
from actors.stores._sql import dump_json, fetch_one
from actors.stores.messages import (
    Delete,
    Deleted,
    DeleteMessages,
    DeleteThread,
    DeleteWorkflowRun,
    EnsureThread,
    GetMessages,
    LoadThread,
    MessageRecord,
    NewMessage,
    PruneMessages,
    PruneWorkflowRuns,
    Put,
    Record,
    ResourceRecord,
    SaveMessages,
    SaveResource,
    SaveThread,
    SaveWorkflowRun,
    SetWorkingMemory,
    StoreWrite,
    ThreadRecord,
    Transaction,
    TransactionOp,
    WorkflowRunRecord,
)

__all__ = ["apply_write"]


def apply_write(conn: apsw.Connection, op: StoreWrite | LoadThread) -> object:
    """Apply one write (a ``Transaction`` applies all of its ops or raises); return its reply.

    A ``LoadThread`` creates its thread unless it exists and reads its messages in the same
    transaction: a turn on a thread the store does not know costs one hand-off, not two.
    """
    if isinstance(op, Transaction):
        return [_apply_op(conn, inner, time.time()) for inner in op.ops]
    if isinstance(op, LoadThread):
        _ensure_thread(conn, EnsureThread(id=op.thread_id, resource_id=op.resource_id), time.time())
        return messages_of(conn, GetMessages(thread_id=op.thread_id, last=op.last))
    return _apply_op(conn, op, time.time())


def _apply_op(conn: apsw.Connection, op: TransactionOp, now: float) -> object:  # noqa: PLR0911
    match op:
        case Put():
            return _put(conn, op, now)
        case Delete():
            conn.execute(
                "DELETE FROM records WHERE collection = ? AND id = ?", (op.collection, op.id)
            )
            return conn.changes() > 0
        case SaveThread() | EnsureThread() | DeleteThread():
            return _thread_op(conn, op, now)
        case SaveMessages():
            return _save_messages(conn, op, now)
        case DeleteMessages():
            return _delete_messages(conn, op.ids)
        case PruneMessages():
            return _prune(conn, op)
        case SaveResource():
            return _save_resource(conn, op.id, op.metadata, op.working_memory, now)
        case SetWorkingMemory():
            return _set_working_memory(conn, op, now)
        case SaveWorkflowRun():
            return _save_run(conn, op, now)
        case DeleteWorkflowRun():
            conn.execute(
                "DELETE FROM workflow_runs WHERE workflow_name = ? AND run_id = ?",
                (op.workflow_name, op.run_id),
            )
            return conn.changes() > 0
        case PruneWorkflowRuns():
            return _prune_runs(conn, op)
        case _:
            assert_never(op)


def _prune_runs(conn: apsw.Connection, op: PruneWorkflowRuns) -> int:
    if op.limit < 1:
        raise InvalidRequest(f"`limit` must be >= 1, got {op.limit}")
    # created_at <= updated_at, so its index narrows the search to the old runs
    conn.execute(
        "DELETE FROM workflow_runs WHERE rowid IN (SELECT rowid FROM workflow_runs"
        " WHERE workflow_name = ? AND status IN ('success', 'failed', 'canceled', 'bailed')"
        " AND created_at < ? AND updated_at < ? ORDER BY created_at LIMIT ?)",
        (op.workflow_name, op.older_than, op.older_than, op.limit),
    )
    return conn.changes()


def _put(conn: apsw.Connection, op: Put, now: float) -> Record:
    if not op.collection or not op.id:
        raise InvalidRequest("`collection` and `id` must be non-empty strings")
    row = fetch_one(
        conn,
        "INSERT INTO records (collection, id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data,"
        " updated_at = excluded.updated_at RETURNING created_at",
        (op.collection, op.id, dump_json(op.data, "data"), now, now),
    )
    return Record(
        collection=op.collection, id=op.id, data=op.data, created_at=row[0], updated_at=now
    )


def _thread_op(
    conn: apsw.Connection, op: SaveThread | EnsureThread | DeleteThread, now: float
) -> object:
    match op:
        case SaveThread():
            return _save_thread(conn, op, now)
        case EnsureThread():
            _ensure_thread(conn, op, now)
            return None
        case DeleteThread():
            return _delete_thread(conn, op.thread_id)
        case _:
            assert_never(op)


def _ensure_thread(conn: apsw.Connection, op: EnsureThread, now: float) -> None:
    if not op.id or not op.resource_id:
        raise InvalidRequest("`id` and `resource_id` of a thread must be non-empty strings")
    conn.execute(
        "INSERT INTO threads (id, resource_id, title, metadata, created_at, updated_at)"
        " VALUES (?, ?, '', '{}', ?, ?) ON CONFLICT (id) DO NOTHING",
        (op.id, op.resource_id, now, now),
    )


def _save_thread(conn: apsw.Connection, op: SaveThread, now: float) -> ThreadRecord:
    if not op.id or not op.resource_id:
        raise InvalidRequest("`id` and `resource_id` of a thread must be non-empty strings")
    row = fetch_one(
        conn,
        "INSERT INTO threads (id, resource_id, title, metadata, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " resource_id = excluded.resource_id, title = excluded.title,"
        " metadata = excluded.metadata, updated_at = excluded.updated_at"
        " RETURNING id, resource_id, title, metadata, created_at, updated_at",
        (op.id, op.resource_id, op.title, dump_json(op.metadata, "metadata"), now, now),
    )
    return thread_row(row)


def _delete_thread(conn: apsw.Connection, thread_id: str) -> Deleted:
    ids = [
        r[0]
        for r in conn.execute("DELETE FROM messages WHERE thread_id = ? RETURNING id", (thread_id,))
    ]
    conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
    return Deleted(ids=sorted(ids))


def _save_message(conn: apsw.Connection, m: NewMessage, index: int, now: float) -> MessageRecord:
    if not m.id or not m.thread_id:
        raise InvalidRequest(f"`messages[{index}]`: `id` and `thread_id` must be non-empty")
    created = now if m.created_at is None else m.created_at
    row = fetch_one(
        conn,
        "INSERT INTO messages (id, thread_id, resource_id, role, type, content, importance,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " role = excluded.role, type = excluded.type, content = excluded.content,"
        " importance = excluded.importance RETURNING " + MESSAGE_COLUMNS,
        (
            m.id,
            m.thread_id,
            m.resource_id,
            m.role,
            m.type,
            dump_json(m.content, f"messages[{index}].content"),
            m.importance,
            created,
        ),
    )
    if row[1] != m.thread_id:
        raise InvalidRequest(f"`messages[{index}].id` {m.id!r} belongs to thread {row[1]!r}")
    return message_row(row)


def _save_messages(conn: apsw.Connection, op: SaveMessages, now: float) -> list[MessageRecord]:
    saved = [_save_message(conn, m, i, now) for i, m in enumerate(op.messages)]
    for thread in dict.fromkeys(m.thread_id for m in op.messages):  # each thread once
        conn.execute("UPDATE threads SET updated_at = ? WHERE id = ?", (now, thread))
    return saved


def _delete_messages(conn: apsw.Connection, ids: list[str]) -> Deleted:
    deleted: list[str] = []
    for message_id in ids:
        deleted += [
            r[0]
            for r in conn.execute("DELETE FROM messages WHERE id = ? RETURNING id", (message_id,))
        ]
    return Deleted(ids=deleted)


def _prune(conn: apsw.Connection, op: PruneMessages) -> Deleted:
    if op.keep_last is not None and op.keep_last < 0:
        raise InvalidRequest(f"`keep_last` must be >= 0, got {op.keep_last}")
    protect = "" if op.protect_importance is None else " AND importance < ?"
    extra: tuple[Any, ...] = () if op.protect_importance is None else (op.protect_importance,)
    deleted: list[str] = []
    if op.older_than is not None:
        deleted += [
            r[0]
            for r in conn.execute(
                "DELETE FROM messages WHERE resource_id = ? AND created_at < ?"
                + protect
                + " RETURNING id",
                (op.resource_id, op.older_than, *extra),
            )
        ]
    if op.keep_last is not None:
        rows = conn.execute(
            "SELECT " + MESSAGE_COLUMNS + " FROM messages WHERE resource_id = ?",
            (op.resource_id,),
        ).fetchall()
        victims = _prune_victims(message_rows(rows), op.keep_last, op.protect_importance)
        deleted += _delete_messages(conn, victims).ids
    return Deleted(ids=deleted)


def _prune_victims(messages: list[MessageRecord], keep: int, protect: float | None) -> list[str]:
    """The least important (then oldest) messages beyond the ``keep`` that survive."""
    excess = len(messages) - keep
    if excess <= 0:
        return []
    order = sorted(messages, key=lambda m: (m.importance, m.created_at, m.seq))
    candidates = [m for m in order if protect is None or m.importance < protect]
    return [m.id for m in candidates[:excess]]


def _save_resource(
    conn: apsw.Connection, rid: str, metadata: dict[str, Any], memory: str | None, now: float
) -> ResourceRecord:
    if not rid:
        raise InvalidRequest("`id` of a resource must be a non-empty string")
    row = fetch_one(
        conn,
        "INSERT INTO resources (id, working_memory, metadata, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET metadata = excluded.metadata,"
        " working_memory = coalesce(excluded.working_memory, working_memory),"
        " updated_at = excluded.updated_at"
        " RETURNING id, working_memory, metadata, created_at, updated_at",
        (rid, memory, dump_json(metadata, "metadata"), now, now),
    )
    return resource_row(row)


def _set_working_memory(conn: apsw.Connection, op: SetWorkingMemory, now: float) -> bool:
    if op.scope == "resource":
        conn.execute(
            "INSERT INTO resources (id, working_memory, metadata, created_at, updated_at)"
            " VALUES (?, ?, '{}', ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " working_memory = excluded.working_memory, updated_at = excluded.updated_at",
            (op.id, op.working_memory, now, now),
        )
        return True
    conn.execute(
        "UPDATE threads SET working_memory = ?, updated_at = ? WHERE id = ?",
        (op.working_memory, now, op.id),
    )
    if conn.changes() == 0:
        raise NotFound(f"thread {op.id!r} does not exist (working memory of scope 'thread')")
    return True


def _save_run(conn: apsw.Connection, op: SaveWorkflowRun, now: float) -> WorkflowRunRecord:
    if not op.workflow_name or not op.run_id:
        raise InvalidRequest("`workflow_name` and `run_id` must be non-empty strings")
    row = fetch_one(
        conn,
        "INSERT INTO workflow_runs (workflow_name, run_id, status, snapshot, resource_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (workflow_name, run_id) DO UPDATE SET status = excluded.status,"
        " snapshot = excluded.snapshot,"
        " resource_id = coalesce(excluded.resource_id, resource_id),"
        " updated_at = excluded.updated_at RETURNING created_at, resource_id",
        (
            op.workflow_name,
            op.run_id,
            op.status,
            dump_json(op.snapshot, "snapshot"),
            op.resource_id,
            now,
            now,
        ),
    )
    return WorkflowRunRecord(
        workflow_name=op.workflow_name,
        run_id=op.run_id,
        status=op.status,
        snapshot=op.snapshot,
        resource_id=row[1],
        created_at=row[0],
        updated_at=now,
    )
