from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import apsw
import msgspec
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from actors.stores import InvalidRequest, NotFound, SqliteStore, StoreError
from actors.stores._schema import MIGRATIONS, SCHEMA_VERSION
from actors.stores._sql import Database
from actors.stores.messages import (
    CheckIntegrity,
    Delete,
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
    NewMessage,
    PruneWorkflowRuns,
    Put,
    Record,
    SaveMessages,
    SaveResource,
    SaveThread,
    SaveWorkflowRun,
    SetWorkingMemory,
    StoreRequest,
    Transaction,
    WorkflowRunPage,
    WorkflowStatus,
)
from runtime import ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime
from tests.actors.stores.conftest import Backend


async def spawn(rt: Mastra, path: str = ":memory:", **kw: Any) -> ActorRef:
    return await rt.spawn(SqliteStore, path, name="store", kind="store", **kw)


async def test_records_crud(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    first = await store.ask(Put(collection="kv", id="a", data={"n": 1}))
    await trio.sleep(0.01)
    second = await store.ask(Put(collection="kv", id="a", data={"n": 2}))
    assert second.created_at == first.created_at < second.updated_at
    await store.ask(Put(collection="kv", id="ab", data=[1, "x"]))
    await store.ask(Put(collection="other", id="a", data=None))
    got = await store.ask(Get(collection="kv", id="a"))
    assert got.data == {"n": 2}
    listed = await store.ask(ListRecords(collection="kv", prefix="a"))
    assert [r.id for r in listed] == ["a", "ab"]
    assert await store.ask(Delete(collection="kv", id="a")) is True
    assert await store.ask(Delete(collection="kv", id="a")) is False
    assert await store.ask(Get(collection="kv", id="a")) is None
    with pytest.raises(InvalidRequest, match="collection"):
        await store.ask(Put(collection="", id="x", data=1))


async def test_threads_messages_and_working_memory(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    await store.ask(SaveThread(id="t1", resource_id="u1", title="hello", metadata={"a": 1}))
    await store.ask(SaveThread(id="t2", resource_id="u1"))
    msgs = [
        NewMessage(
            id=f"m{i}",
            thread_id="t1",
            resource_id="u1",
            role="user",
            content={"text": str(i)},
            created_at=float(i),
        )
        for i in range(6)
    ]
    await store.ask(SaveMessages(messages=msgs))
    await store.ask(SaveMessages(messages=msgs[:2]))  # a retry never duplicates
    everything = await store.ask(GetMessages(thread_id="t1"))
    assert [m.id for m in everything] == [f"m{i}" for i in range(6)]
    last = await store.ask(GetMessages(thread_id="t1", last=2))
    assert [m.id for m in last] == ["m4", "m5"]
    around = await store.ask(GetMessagesById(ids=["m3"], before=1, after=1))
    assert [m.id for m in around] == ["m2", "m3", "m4"]
    with pytest.raises(InvalidRequest, match="belongs to thread"):
        await store.ask(
            SaveMessages(messages=[NewMessage(id="m1", thread_id="t2", role="user", content="x")])
        )
    same_time = [  # one turn's messages share a time: they keep the request's order
        NewMessage(id=i, thread_id="t2", role="user", content=i, created_at=9.0)
        for i in ("z", "a", "z", "m")
    ]
    saved = await store.ask(SaveMessages(messages=same_time))
    assert [m.id for m in saved] == ["z", "a", "z", "m"]
    assert [m.id for m in await store.ask(GetMessages(thread_id="t2"))] == ["z", "a", "m"]
    threads = await store.ask(ListThreads(resource_id="u1"))
    assert {t.id for t in threads} == {"t1", "t2"}
    thread = await store.ask(GetThread(thread_id="t1"))
    assert (thread.title, thread.metadata) == ("hello", {"a": 1})
    await store.ask(SetWorkingMemory(scope="thread", id="t1", working_memory="# Notes"))
    await store.ask(SetWorkingMemory(scope="resource", id="u1", working_memory="# User"))
    assert await store.ask(GetWorkingMemory(scope="thread", id="t1")) == "# Notes"
    assert await store.ask(GetWorkingMemory(scope="resource", id="u1")) == "# User"
    with pytest.raises(NotFound, match="thread 'nope'"):
        await store.ask(SetWorkingMemory(scope="thread", id="nope", working_memory="x"))
    await store.ask(SaveResource(id="u1", metadata={"plan": "pro"}))
    resource = await store.ask(GetResource(resource_id="u1"))
    assert (resource.working_memory, resource.metadata) == ("# User", {"plan": "pro"})


async def test_load_thread_creates_the_thread_and_replies_its_newest_messages(
    rt: Mastra, backend: Backend
) -> None:
    store = await backend.store(rt)
    assert await store.ask(LoadThread(thread_id="t", resource_id="u", last=2)) == []
    assert (await store.ask(GetThread(thread_id="t"))).resource_id == "u"
    saved = [
        NewMessage(id=f"m{i}", thread_id="t", role="user", content=i, created_at=float(i))
        for i in range(3)
    ]
    await store.ask(SaveMessages(messages=saved))
    newest = await store.ask(LoadThread(thread_id="t", resource_id="other", last=2))
    assert [r.id for r in newest] == ["m1", "m2"]
    assert (await store.ask(GetThread(thread_id="t"))).resource_id == "u"  # left as it was


async def test_concurrent_loads_each_get_their_own_thread(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    for t in range(4):
        saved = [
            NewMessage(id=f"{t}-{i}", thread_id=f"t{t}", role="user", content=i, created_at=i)
            for i in range(5)
        ]
        await store.ask(SaveThread(id=f"t{t}", resource_id="u"))
        await store.ask(SaveMessages(messages=saved))
    got: dict[tuple[str, int | None], list[str]] = {}
    failed: list[Exception] = []

    async def load(thread: str, last: int | None) -> None:
        try:
            records = await store.ask(LoadThread(thread_id=thread, resource_id="u", last=last))
            got[thread, last] = [r.id for r in records]
        except InvalidRequest as exc:
            failed.append(exc)

    async with trio.open_nursery() as nursery:  # together, so they share batches
        for t in range(4):
            for last in (None, 0, 2, 2, 9):
                nursery.start_soon(load, f"t{t}", last)
        nursery.start_soon(load, "fresh", 3)
        nursery.start_soon(load, "t0", -1)
    assert [str(e) for e in failed] == ["`limit` must be >= 0, got -1"]
    for t in range(4):
        everything = [f"{t}-{i}" for i in range(5)]
        assert got[f"t{t}", None] == got[f"t{t}", 9] == everything
        assert got[f"t{t}", 2] == everything[-2:]
        assert got[f"t{t}", 0] == []
    assert got["fresh", 3] == []
    assert (await store.ask(GetThread(thread_id="fresh"))).resource_id == "u"


async def test_concurrent_run_reads_each_get_their_own_run(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    for i in range(8):
        await store.ask(
            SaveWorkflowRun(workflow_name="wf", run_id=f"r{i}", status="success", snapshot=i)
        )
    got: dict[str, Any] = {}

    async def read(run_id: str, workflow: str = "wf") -> None:
        got[run_id] = await store.ask(GetWorkflowRun(workflow_name=workflow, run_id=run_id))

    async with trio.open_nursery() as nursery:  # together, so they share batches
        for i in range(8):
            nursery.start_soon(read, f"r{i}")
        nursery.start_soon(read, "missing")
        nursery.start_soon(read, "other-workflow", "nope")
    assert {i: got[f"r{i}"].snapshot for i in range(8)} == {i: i for i in range(8)}
    assert got["missing"] is None and got["other-workflow"] is None


async def test_workflow_runs_filters_and_paging(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    for i in range(5):
        await store.ask(
            SaveWorkflowRun(
                workflow_name="wf",
                run_id=f"r{i}",
                status="running",
                snapshot={"step": i},
                resource_id=f"u{i % 2}",
            )
        )
    await store.ask(
        SaveWorkflowRun(workflow_name="wf", run_id="r1", status="success", snapshot={"step": 9})
    )
    run = await store.ask(GetWorkflowRun(workflow_name="wf", run_id="r1"))
    assert (run.status, run.snapshot, run.resource_id) == ("success", {"step": 9}, "u1")
    before = await store.ask(GetWorkflowRun(workflow_name="wf", run_id="r0"))
    same_status = SaveWorkflowRun(workflow_name="wf", run_id="r0", status="running", snapshot={})
    saved = await store.ask(same_status)
    after = await store.ask(GetWorkflowRun(workflow_name="wf", run_id="r0"))
    assert saved == after
    assert (after.status, after.snapshot, after.resource_id) == ("running", {}, "u0")
    assert after.created_at == before.created_at < after.updated_at
    page: WorkflowRunPage = await store.ask(ListWorkflowRuns(workflow_name="wf", limit=2, offset=1))
    assert page.total == 5 and [r.run_id for r in page.runs] == ["r3", "r2"]
    by_resource = await store.ask(ListWorkflowRuns(resource_id="u0"))
    assert {r.run_id for r in by_resource.runs} == {"r0", "r2", "r4"}
    running = await store.ask(ListWorkflowRuns(status="running"))
    assert running.total == 4
    cutoff = (await store.ask(GetWorkflowRun(workflow_name="wf", run_id="r2"))).created_at
    recent = await store.ask(ListWorkflowRuns(from_date=cutoff))
    assert {r.run_id for r in recent.runs} == {"r2", "r3", "r4"}
    older = await store.ask(ListWorkflowRuns(to_date=cutoff))
    assert {r.run_id for r in older.runs} == {"r0", "r1", "r2"}


async def test_pruning_runs_deletes_only_old_finished_ones(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    statuses: list[WorkflowStatus] = ["success", "failed", "canceled", "bailed"]
    statuses += ["pending", "running", "waiting", "suspended"]
    for i, status in enumerate(statuses):
        save = SaveWorkflowRun(workflow_name="wf", run_id=f"r{i}", status=status, snapshot={})
        await store.ask(save)
    other = SaveWorkflowRun(workflow_name="other", run_id="x", status="success", snapshot={})
    await store.ask(other)
    cutoff = (await store.ask(GetWorkflowRun(workflow_name="wf", run_id="r1"))).updated_at
    prune = PruneWorkflowRuns(workflow_name="wf", older_than=cutoff)
    assert await store.ask(prune) == 1  # r0 only: r1 was saved at the cutoff, not before
    later = PruneWorkflowRuns(workflow_name="wf", older_than=time.time() + 60, limit=2)
    assert await store.ask(later) == 2  # the oldest two of r1..r3
    assert await store.ask(later) == 1
    assert await store.ask(later) == 0
    left = await store.ask(ListWorkflowRuns(workflow_name="wf"))
    assert sorted(r.status for r in left.runs) == sorted(statuses[4:])
    assert await store.ask(GetWorkflowRun(workflow_name="other", run_id="x")) is not None
    with pytest.raises(InvalidRequest, match="`limit` must be >= 1"):
        await store.ask(PruneWorkflowRuns(workflow_name="wf", older_than=0, limit=0))


async def test_transaction_is_all_or_nothing(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt)
    ok = await store.ask(
        Transaction(ops=[Put(collection="c", id="1", data=1), Put(collection="c", id="2", data=2)])
    )
    assert [r.id for r in ok] == ["1", "2"]
    with pytest.raises(NotFound):
        await store.ask(
            Transaction(
                ops=[
                    Put(collection="c", id="3", data=3),
                    SetWorkingMemory(scope="thread", id="missing", working_memory=""),
                ]
            )
        )
    assert await store.ask(Get(collection="c", id="3")) is None


async def test_group_commit_batches_and_isolates_failures(rt: Mastra, backend: Backend) -> None:
    store = await backend.store(rt, backend.location())
    errors: list[Exception] = []

    async def writer(i: int) -> None:
        for j in range(20):
            try:
                if j == 10 and i % 8 == 0:  # a bad write among good ones of the same batch
                    await store.ask(Put(collection="", id="bad", data=0))
                else:
                    await store.ask(Put(collection="c", id=f"{i}-{j}", data=j))
            except StoreError as exc:
                errors.append(exc)

    async with trio.open_nursery() as nursery:
        for i in range(32):
            nursery.start_soon(writer, i)
    assert len(errors) == 4 and all(isinstance(e, InvalidRequest) for e in errors)
    records = await store.ask(ListRecords(collection="c", limit=None))
    assert len(records) == 32 * 20 - 4
    batches, writes = store._cell.instance.commit_stats  # type: ignore[union-attr]
    assert writes == 32 * 20 - 4
    assert batches < writes / 4  # many writes share each commit


async def test_a_refused_message_save_fails_alone_in_its_batch(
    rt: Mastra, backend: Backend
) -> None:
    store = await backend.store(rt, backend.location())
    taken = NewMessage(id="taken", thread_id="x", role="user", content="x")
    await store.ask(SaveMessages(messages=[taken]))
    refused: list[str] = []

    async def turn(i: int) -> None:
        for j in range(10):
            ids = [f"{i}-{j}-a", "taken" if (i, j) == (3, 5) else f"{i}-{j}-b"]
            batch = [NewMessage(id=m, thread_id=f"t{i}", role="user", content=m) for m in ids]
            try:
                await store.ask(SaveMessages(messages=batch))
            except InvalidRequest as exc:
                refused.append(str(exc))

    async with trio.open_nursery() as nursery:
        for i in range(16):
            nursery.start_soon(turn, i)
    assert refused == ["`messages[1].id` 'taken' belongs to thread 'x'"]
    for i in range(16):
        stored = [m.id for m in await store.ask(GetMessages(thread_id=f"t{i}"))]
        expected = [f"{i}-{j}-{k}" for j in range(10) for k in "ab"]
        assert stored == [m for m in expected if i != 3 or not m.startswith("3-5-")]
    batches, writes = store._cell.instance.commit_stats  # type: ignore[union-attr]
    assert batches < writes  # turns shared commits


async def test_store_survives_reopen_and_reads_in_parallel(rt: Mastra, backend: Backend) -> None:
    path = backend.location()
    store = await backend.store(rt, path)
    await store.ask(Put(collection="c", id="x", data={"v": 1}))
    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(store.ask, Get(collection="c", id="x"))
            nursery.start_soon(store.ask, Put(collection="c", id=f"p{i}", data=i))
    await rt.stop(store)
    store = await backend.store(rt, path)
    assert (await store.ask(Get(collection="c", id="x"))).data == {"v": 1}
    assert len(await store.ask(ListRecords(collection="c", limit=None))) == 21
    assert await store.ask(CheckIntegrity()) == ["ok"]
    if backend.name != "sqlite":
        return
    conn = apsw.Connection(path)
    assert conn.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
    assert conn.execute("PRAGMA user_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_messages_keep_their_order_across_the_migration_off_autoincrement(
    rt: Mastra, tmp_path: Path
) -> None:
    path = str(tmp_path / "v3.db")
    conn = apsw.Connection(path)
    for migration in MIGRATIONS[:3]:
        conn.execute(migration)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO threads VALUES ('t', 'u', '', '{}', NULL, 1.0, 1.0)")
    for i, at in enumerate([5.0, 5.0, 4.0]):  # seq breaks the tie of the first two
        conn.execute(
            "INSERT INTO messages (id, thread_id, resource_id, role, type, content, importance,"
            " created_at) VALUES (?, 't', 'u', 'user', 'text', ?, 0, ?)",
            (f"m{i}", f'"{i}"', at),
        )
    conn.close()

    store = await spawn(rt, path)
    before = await store.ask(GetMessages(thread_id="t"))
    assert [(m.id, m.seq) for m in before] == [("m2", 3), ("m0", 1), ("m1", 2)]
    (added,) = await store.ask(
        SaveMessages(messages=[NewMessage(id="m3", thread_id="t", role="user", content="3")])
    )
    assert added.seq == 4
    assert [m.id for m in await store.ask(GetMessages(thread_id="t"))] == ["m2", "m0", "m1", "m3"]
    conn = apsw.Connection(path)
    [(sql,)] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchall()
    assert "AUTOINCREMENT" not in str(sql)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    apsw.Connection(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Database(path)


def test_busy_database_is_retried_not_surfaced(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.db")
    db = Database(path, synchronous="normal")
    other = apsw.Connection(path)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    from actors.stores._writes import apply_write

    result = db.write_batch([Put(collection="c", id="1", data=1)], apply_write)
    release.join()
    assert isinstance(result[0], Record) and result[0].id == "1"
    db.close()


def test_busy_beyond_budget_is_a_typed_error(tmp_path: Path) -> None:
    path = str(tmp_path / "busy2.db")
    db = Database(path, retry_budget=0.3)
    other = apsw.Connection(path)
    other.execute("BEGIN IMMEDIATE")
    from actors.stores import StoreUnavailable
    from actors.stores._writes import apply_write

    with pytest.raises(StoreUnavailable, match="stayed busy") as info:
        db.write_batch([Put(collection="c", id="1", data=1)], apply_write)
    assert "locked" not in str(info.value)
    other.execute("ROLLBACK")
    db.close()


_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_requests = st.one_of(
    st.builds(Put, collection=st.text(max_size=5), id=st.text(max_size=5), data=_json),
    st.builds(
        SaveThread,
        id=st.text(max_size=5),
        resource_id=st.text(max_size=5),
        title=st.text(max_size=5),
    ),
    st.builds(
        SaveWorkflowRun,
        workflow_name=st.text(max_size=5),
        run_id=st.text(max_size=5),
        status=st.sampled_from(["running", "success"]),
        snapshot=_json,
    ),
    st.builds(
        PruneWorkflowRuns,
        workflow_name=st.text(max_size=5),
        older_than=st.floats(allow_nan=False, allow_infinity=False),
        limit=st.integers(-2, 9),
    ),
    st.builds(
        ListWorkflowRuns,
        limit=st.none() | st.integers(0, 9),
        from_date=st.none() | st.floats(0, 1e9),
    ),
    st.builds(GetMessages, thread_id=st.text(max_size=5), last=st.none() | st.integers(0, 9)),
    st.builds(
        Transaction,
        ops=st.lists(
            st.builds(Delete, collection=st.text(max_size=3), id=st.text(max_size=3)), max_size=3
        ),
    ),
)


@given(_requests)
def test_requests_round_trip_msgpack_and_json(msg: StoreRequest) -> None:
    for codec in (msgspec.msgpack, msgspec.json):
        assert codec.decode(codec.encode(msg), type=StoreRequest) == msg


async def test_the_writer_threads_end_with_the_store(tmp_path: Path) -> None:
    def writers() -> int:
        names = ("store-writer", "store-checkpoint")
        return sum(t.name in names for t in threading.enumerate())

    before = writers()
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as runtime:
        store = await runtime.spawn(SqliteStore, str(tmp_path / "w.db"), name="w", kind="store")
        await store.ask(Put(collection="c", id="1", data={}))
        assert writers() == before + 2
        await runtime.stop(store)
        assert writers() == before


def test_one_database_file_has_one_store(tmp_path: Path) -> None:
    path = str(tmp_path / "claimed.db")
    first = Database(path)
    with pytest.raises(StoreError, match=rf"in use by another store \(process {os.getpid()}\)"):
        Database(path)
    script = (
        "import sys\n"
        "from actors.stores._sql import Database\n"
        "from actors.stores import StoreError\n"
        "try:\n"
        "    Database(sys.argv[1])\n"
        "except StoreError as exc:\n"
        "    print(exc)\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, path], capture_output=True, text=True, check=True
    )
    assert "in use by another store" in other.stdout
    first.close()
    Database(path).close()  # released: it opens again


def test_a_failed_open_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(apsw.NotADBError):
        Database(str(path))
    path.unlink()
    Database(str(path)).close()
