"""The store's write operations on Postgres, each applied inside the writer's transaction.

The same requests and replies as the SQLite writes (``_writes``): saving a message, thread,
record or run again with the same id updates it (``ON CONFLICT``), which keeps appends
exactly-once by id however many processes retry them. ``apply_pg_write`` raises
``StoreError`` subclasses for bad requests; the batch then rolls back only that op.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, assert_never

from actors.stores._errors import InvalidRequest, NotFound
from actors.stores._pg import Conn, fetch_row
from actors.stores._reads import MESSAGE_COLUMNS, message_row, resource_row, thread_row
from actors.stores._sql import dump_json
from actors.stores._writes import _prune_victims
from actors.stores.messages import (
    Delete,
    Deleted,
    DeleteMessages,
    DeleteThread,
    DeleteWorkflowRun,
    EnsureThread,
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

__all__ = ["apply_pg_write", "save_messages_together"]

_THREAD_COLUMNS = "id, resource_id, title, metadata, created_at, updated_at"


def apply_pg_write(conn: Conn, op: StoreWrite) -> object:
    """Apply one write (a ``Transaction`` applies all of its ops or raises); return its reply."""
    if isinstance(op, Transaction):
        now = time.time()
        return [_apply_op(conn, inner, now) for inner in op.ops]
    return _apply_op(conn, op, time.time())


def _apply_op(conn: Conn, op: TransactionOp, now: float) -> object:  # noqa: PLR0911
    match op:
        case Put():
            return _put(conn, op, now)
        case Delete():
            cur = conn.execute(
                "DELETE FROM mastra_records WHERE collection = %s AND id = %s",
                (op.collection, op.id),
            )
            return cur.rowcount > 0
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
            cur = conn.execute(
                "DELETE FROM mastra_workflow_runs WHERE workflow_name = %s AND run_id = %s",
                (op.workflow_name, op.run_id),
            )
            return cur.rowcount > 0
        case PruneWorkflowRuns():
            return _prune_runs(conn, op)
        case _:
            assert_never(op)


def _put(conn: Conn, op: Put, now: float) -> Record:
    if not op.collection or not op.id:
        raise InvalidRequest("`collection` and `id` must be non-empty strings")
    row = fetch_row(
        conn,
        "INSERT INTO mastra_records (collection, id, data, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (collection, id) DO UPDATE SET"
        " data = excluded.data, updated_at = excluded.updated_at RETURNING created_at",
        (op.collection, op.id, dump_json(op.data, "data"), now, now),
    )
    return Record(
        collection=op.collection, id=op.id, data=op.data, created_at=row[0], updated_at=now
    )


def _thread_op(conn: Conn, op: SaveThread | EnsureThread | DeleteThread, now: float) -> object:
    match op:
        case SaveThread():
            return _save_thread(conn, op, now)
        case EnsureThread():
            if not op.id or not op.resource_id:
                raise InvalidRequest("`id` and `resource_id` of a thread must be non-empty")
            conn.execute(
                "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at,"
                " updated_at) VALUES (%s, %s, '', '{}', %s, %s) ON CONFLICT (id) DO NOTHING",
                (op.id, op.resource_id, now, now),
            )
            return None
        case DeleteThread():
            cur = conn.execute(
                "DELETE FROM mastra_messages WHERE thread_id = %s RETURNING id", (op.thread_id,)
            )
            ids = [r[0] for r in cur.fetchall()]
            conn.execute("DELETE FROM mastra_threads WHERE id = %s", (op.thread_id,))
            return Deleted(ids=sorted(ids))
        case _:
            assert_never(op)


def _save_thread(conn: Conn, op: SaveThread, now: float) -> ThreadRecord:
    if not op.id or not op.resource_id:
        raise InvalidRequest("`id` and `resource_id` of a thread must be non-empty strings")
    row = fetch_row(
        conn,
        "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
        " resource_id = excluded.resource_id, title = excluded.title,"
        " metadata = excluded.metadata, updated_at = excluded.updated_at"
        f" RETURNING {_THREAD_COLUMNS}",
        (op.id, op.resource_id, op.title, dump_json(op.metadata, "metadata"), now, now),
    )
    return thread_row(row)


_SAVE_MESSAGES = (
    "WITH saved AS (INSERT INTO mastra_messages (id, thread_id, resource_id, role, type,"
    " content, importance, created_at) SELECT id, thread_id, resource_id, role, type, content,"
    " importance, created_at FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::text[], %s::text[], %s::float8[], %s::float8[]) WITH ORDINALITY AS"
    " m(id, thread_id, resource_id, role, type, content, importance, created_at, n)"
    " ORDER BY n"  # identities follow the order of the request
    " ON CONFLICT (id) DO UPDATE SET role = excluded.role, type = excluded.type,"
    " content = excluded.content, importance = excluded.importance"
    f" RETURNING {MESSAGE_COLUMNS}),"
    " touched AS (UPDATE mastra_threads SET updated_at = %s WHERE id = ANY(%s))"
    " SELECT * FROM saved"
)


def save_messages_together(conn: Conn, ops: Sequence[SaveMessages]) -> list[object]:
    """Apply consecutive ``SaveMessages`` of one batch as one statement; one reply per op.

    Raises ``InvalidRequest`` when any op is refused: the caller then applies them one by
    one, so that the refused op fails alone and its error names its own message.
    """
    messages = [m for op in ops for m in op.messages]
    saved = _upsert_messages(conn, messages, time.time())
    return [[message_row(saved[m.id]) for m in op.messages] for op in ops]


def _save_messages(conn: Conn, op: SaveMessages, now: float) -> list[MessageRecord]:
    saved = _upsert_messages(conn, op.messages, now)
    return [message_row(saved[m.id]) for m in op.messages]


def _upsert_messages(
    conn: Conn, messages: Sequence[NewMessage], now: float
) -> dict[str, tuple[Any, ...]]:
    """Upsert ``messages`` and touch their threads in one statement (one round trip); the
    stored rows by id. A repeated id: its last version wins."""
    latest: dict[str, tuple[int, NewMessage]] = {}
    for index, m in enumerate(messages):
        if not m.id or not m.thread_id:
            raise InvalidRequest(f"`messages[{index}]`: `id` and `thread_id` must be non-empty")
        latest[m.id] = (index, m)
    if not latest:
        return {}
    columns: list[list[Any]] = [[] for _ in range(8)]
    for index, m in latest.values():
        values = (
            m.id,
            m.thread_id,
            m.resource_id,
            m.role,
            m.type,
            dump_json(m.content, f"messages[{index}].content"),
            m.importance,
            now if m.created_at is None else m.created_at,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    threads = sorted({m.thread_id for _, m in latest.values()})  # one order: fewer deadlocks
    rows = conn.execute(_SAVE_MESSAGES, (*columns, now, threads)).fetchall()
    saved = {row[0]: row for row in rows}
    for index, m in latest.values():
        if saved[m.id][1] != m.thread_id:
            raise InvalidRequest(
                f"`messages[{index}].id` {m.id!r} belongs to thread {saved[m.id][1]!r}"
            )
    return saved


def _delete_messages(conn: Conn, ids: list[str]) -> Deleted:
    cur = conn.execute("DELETE FROM mastra_messages WHERE id = ANY(%s) RETURNING id", (ids,))
    gone = {r[0] for r in cur.fetchall()}
    return Deleted(ids=[i for i in dict.fromkeys(ids) if i in gone])


def _prune(conn: Conn, op: PruneMessages) -> Deleted:
    if op.keep_last is not None and op.keep_last < 0:
        raise InvalidRequest(f"`keep_last` must be >= 0, got {op.keep_last}")
    protect = "" if op.protect_importance is None else " AND importance < %s"
    extra: tuple[Any, ...] = () if op.protect_importance is None else (op.protect_importance,)
    deleted: list[str] = []
    if op.older_than is not None:
        cur = conn.execute(
            "DELETE FROM mastra_messages WHERE resource_id = %s AND created_at < %s"
            + protect
            + " RETURNING id",
            (op.resource_id, op.older_than, *extra),
        )
        deleted += [r[0] for r in cur.fetchall()]
    if op.keep_last is not None:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE resource_id = %s",
            (op.resource_id,),
        ).fetchall()
        messages = [message_row(r) for r in rows]
        victims = _prune_victims(messages, op.keep_last, op.protect_importance)
        deleted += _delete_messages(conn, victims).ids
    return Deleted(ids=deleted)


def _save_resource(
    conn: Conn, rid: str, metadata: dict[str, Any], memory: str | None, now: float
) -> ResourceRecord:
    if not rid:
        raise InvalidRequest("`id` of a resource must be a non-empty string")
    row = fetch_row(
        conn,
        "INSERT INTO mastra_resources AS r (id, working_memory, metadata, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
        " metadata = excluded.metadata,"
        " working_memory = coalesce(excluded.working_memory, r.working_memory),"
        " updated_at = excluded.updated_at"
        " RETURNING id, working_memory, metadata, created_at, updated_at",
        (rid, memory, dump_json(metadata, "metadata"), now, now),
    )
    return resource_row(row)


def _set_working_memory(conn: Conn, op: SetWorkingMemory, now: float) -> bool:
    if op.scope == "resource":
        conn.execute(
            "INSERT INTO mastra_resources (id, working_memory, metadata, created_at, updated_at)"
            " VALUES (%s, %s, '{}', %s, %s) ON CONFLICT (id) DO UPDATE SET"
            " working_memory = excluded.working_memory, updated_at = excluded.updated_at",
            (op.id, op.working_memory, now, now),
        )
        return True
    cur = conn.execute(
        "UPDATE mastra_threads SET working_memory = %s, updated_at = %s WHERE id = %s",
        (op.working_memory, now, op.id),
    )
    if cur.rowcount == 0:
        raise NotFound(f"thread {op.id!r} does not exist (working memory of scope 'thread')")
    return True


def _save_run(conn: Conn, op: SaveWorkflowRun, now: float) -> WorkflowRunRecord:
    if not op.workflow_name or not op.run_id:
        raise InvalidRequest("`workflow_name` and `run_id` must be non-empty strings")
    row = fetch_row(
        conn,
        "INSERT INTO mastra_workflow_runs AS w (workflow_name, run_id, status, snapshot,"
        " resource_id, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (workflow_name, run_id) DO UPDATE SET status = excluded.status,"
        " snapshot = excluded.snapshot,"
        " resource_id = coalesce(excluded.resource_id, w.resource_id),"
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


def _prune_runs(conn: Conn, op: PruneWorkflowRuns) -> int:
    if op.limit < 1:
        raise InvalidRequest(f"`limit` must be >= 1, got {op.limit}")
    cur = conn.execute(
        "DELETE FROM mastra_workflow_runs WHERE (workflow_name, run_id) IN"
        " (SELECT workflow_name, run_id FROM mastra_workflow_runs WHERE workflow_name = %s"
        " AND status IN ('success', 'failed', 'canceled', 'bailed')"
        " AND created_at < %s AND updated_at < %s ORDER BY created_at LIMIT %s)",
        (op.workflow_name, op.older_than, op.older_than, op.limit),
    )
    return cur.rowcount
