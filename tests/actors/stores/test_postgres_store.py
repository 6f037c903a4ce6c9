"""What only the Postgres stores do: share a database, translate filters to SQL, ride out
a database that goes away and comes back. The behaviour they share with SQLite is tested
by the parametrized store and vector suites."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import psycopg
import pytest
import trio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actors.stores import LeaseLost, PgVectorStore, PostgresStore, StoreUnavailable
from actors.stores._filter import compile_filter
from actors.stores._pgfilter import filter_sql
from actors.stores._pgnotify import notify
from actors.stores._pgschema import MIGRATIONS, migrate
from actors.stores.lease_messages import (
    AwaitNotice,
    ClaimRuns,
    LeaseSupport,
    ReleaseLeases,
    RenewLeases,
    RequestCancel,
    SaveLeasedRun,
    cancel_notice,
    release_notice,
)
from actors.stores.messages import (
    GetMessages,
    ListRecords,
    NewMessage,
    Put,
    SaveMessages,
    SaveThread,
    WorkflowStatus,
)
from actors.stores.vector_messages import CreateIndex, Query, Upsert
from runtime import Mastra
from tests.pgcluster import Cluster, open_cluster

# -- filters: SQL selects exactly what the Python predicate accepts -----------------------
_values = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([1.5, -0.5])
_values |= st.sampled_from(["a", "b", "ab", "B", "é"])
_field_values = _values | st.lists(_values, max_size=3)
_keys = st.sampled_from(["a", "b", "n.x"])
_docs = st.fixed_dictionaries(
    {},
    optional={
        "a": _field_values,
        "b": _field_values,
        "n": st.fixed_dictionaries({}, optional={"x": _field_values}),
    },
)
_ops = st.sampled_from(
    ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not"]
)


@st.composite
def _condition(draw: st.DrawFn) -> Any:
    op = draw(_ops)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {op: draw(st.integers(-3, 3) | st.sampled_from(["a", "b", 0.5]))}
    if op in ("$in", "$nin"):
        return {op: draw(st.lists(_values, max_size=3))}
    if op == "$exists":
        return {op: draw(st.booleans())}
    if op == "$not":
        return {op: {"$eq": draw(_values)}}
    return {op: draw(_field_values)}


_leaf = st.dictionaries(_keys, _field_values | _condition(), min_size=1, max_size=2)
_filters = st.recursive(
    _leaf,
    lambda inner: (
        st.builds(lambda xs: {"$and": xs}, st.lists(inner, min_size=1, max_size=2))
        | st.builds(lambda xs: {"$or": xs}, st.lists(inner, min_size=1, max_size=2))
        | st.builds(lambda x: {"$not": x}, inner)
    ),
    max_leaves=4,
)


@pytest.fixture(scope="module")
def filter_db(pg_cluster: Cluster) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_cluster.create_database(), autocommit=True) as conn:
        conn.execute("CREATE TABLE docs (id int PRIMARY KEY, metadata jsonb NOT NULL)")
        yield conn


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=st.lists(_docs, min_size=1, max_size=6), spec=_filters)
@example(docs=[{"n": {"x": [False, None, False]}}], spec={"n.x": [0, None, False]})
@example(docs=[{"a": {"b": [1, True]}}], spec={"a": {"b": [1, 1]}})
def test_filters_in_sql_match_the_python_predicate(
    filter_db: psycopg.Connection[Any], docs: list[dict[str, Any]], spec: dict[str, Any]
) -> None:
    predicate = compile_filter(spec)
    condition = filter_sql(spec)
    assert predicate is not None and condition is not None
    with filter_db.transaction(force_rollback=True):
        for i, doc in enumerate(docs):
            filter_db.execute(
                "INSERT INTO docs VALUES (%s, %s::jsonb)", (i, msgspec.json.encode(doc).decode())
            )
        rows = filter_db.execute(f"SELECT id FROM docs WHERE {condition[0]}", condition[1])
        found = sorted(r[0] for r in rows)
    assert found == [i for i, doc in enumerate(docs) if predicate(doc)], condition[0]


def test_filter_values_are_bound_never_spliced() -> None:
    condition = filter_sql({"a'; DROP TABLE x; --": {"$in": ["'; DROP TABLE y; --"]}})
    assert condition is not None
    assert "DROP" not in condition[0]


# -- several processes on one database ---------------------------------------------------
async def test_two_stores_on_one_database_store_each_message_once(rt: Mastra, pg_url: str) -> None:
    # they start together: the migrations run once under the advisory lock
    async with trio.open_nursery() as nursery:
        for name in ("a", "b"):
            nursery.start_soon(functools.partial(rt.spawn, PostgresStore, pg_url, name=name))
    stores = [rt.lookup(name) for name in ("a", "b")]
    assert all(s is not None for s in stores)
    await stores[0].ask(SaveThread(id="t", resource_id="u"))  # type: ignore[union-attr]
    messages = [
        NewMessage(id=f"m{i}", thread_id="t", role="user", content=i, created_at=float(i))
        for i in range(40)
    ]

    async def append(store: Any, start: int) -> None:
        for i in range(start, 40, 3):  # overlapping, as a retried turn on another node
            await store.ask(SaveMessages(messages=messages[i : i + 5]))

    async with trio.open_nursery() as nursery:
        for k, store in enumerate(stores * 3):
            nursery.start_soon(append, store, k % 3)
    stored = await stores[1].ask(GetMessages(thread_id="t"))  # type: ignore[union-attr]
    assert [m.id for m in stored] == [f"m{i}" for i in range(40)]
    with psycopg.connect(pg_url) as conn:
        latest = len(MIGRATIONS["store"])
        assert migrate(conn, "store") == latest
        versions = conn.execute("SELECT component, version FROM mastra_schema").fetchall()
        assert versions == [("store", latest)]


async def test_a_newer_schema_is_refused(rt: Mastra, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        migrate(conn, "store")
        conn.execute("UPDATE mastra_schema SET version = 99")
    with pytest.raises(Exception, match="newer than this code"):
        await rt.spawn(PostgresStore, pg_url, name="store")


async def test_unfiltered_queries_use_the_hnsw_index(rt: Mastra, pg_url: str) -> None:
    store = await rt.spawn(PgVectorStore, pg_url, name="vectors")
    await store.ask(CreateIndex(index_name="docs", dimension=3, metric="dot"))
    await store.ask(Upsert(index_name="docs", ids=["a"], vectors=[[1, 2, 3]]))
    with psycopg.connect(pg_url) as conn:
        (table,) = conn.execute("SELECT table_name FROM mastra_vector_indexes").fetchone() or ()
        conn.execute("SET enable_seqscan = off")  # as on a table too large to scan
        plan = conn.execute(
            f"EXPLAIN SELECT id FROM {table} ORDER BY embedding <#> '[1,0,0]' LIMIT 5"
        ).fetchall()
    assert "hnsw" in str(plan)


# -- leases on workflow runs ---------------------------------------------------------------
async def test_a_run_is_leased_claimed_once_expired_and_fenced(rt: Mastra, pg_url: str) -> None:
    store = await rt.spawn(PostgresStore, pg_url, name="store")
    assert await store.ask(LeaseSupport()) is True

    def save(run: str, owner: str, status: WorkflowStatus, lease: float) -> SaveLeasedRun:
        return SaveLeasedRun(
            workflow_name="wf",
            run_id=run,
            status=status,
            snapshot={"by": owner},
            owner=owner,
            lease_for=lease,
        )

    await store.ask(save("held", "a", "running", 60))
    await store.ask(save("expired", "a", "running", 0))  # as if "a" stopped renewing
    await store.ask(save("done", "a", "success", 60))
    claim = ClaimRuns(workflow_name="wf", owner="b", lease_for=60)
    async with trio.open_nursery() as nursery:  # two claimers at once: one gets it
        got: list[list[str]] = []

        async def claim_once() -> None:
            got.append([r.run_id for r in await store.ask(claim)])

        nursery.start_soon(claim_once)
        nursery.start_soon(claim_once)
    assert sorted(got) == [[], ["expired"]]
    with pytest.raises(LeaseLost, match="'expired'"):
        await store.ask(save("expired", "a", "running", 60))  # "a" comes back: fenced
    renew = RenewLeases(workflow_name="wf", owner="a", run_ids=["held", "expired"], lease_for=60)
    assert await store.ask(renew) == ["held"]
    record = await store.ask(save("expired", "b", "success", 60))  # "b" finishes it
    assert record.snapshot == {"by": "b"}
    await store.ask(save("held", "a", "suspended", 60))  # suspending frees the lease
    assert await store.ask(claim) == []
    await store.ask(save("held", "c", "running", 60))  # resumed on another node
    assert await store.ask(claim) == []  # leased to "c"...
    mine = ClaimRuns(workflow_name="wf", owner="c", lease_for=60, own=True)
    assert [r.run_id for r in await store.ask(mine)] == ["held"]  # ...which takes it back
    assert await store.ask(
        RenewLeases(workflow_name="wf", owner="c", run_ids=["held"], lease_for=1)
    ) == ["held"]


async def test_a_fenced_run_save_fails_alone_in_its_batch(rt: Mastra, pg_url: str) -> None:
    store = await rt.spawn(PostgresStore, pg_url, name="store")

    def save(run: str, owner: str) -> SaveLeasedRun:
        return SaveLeasedRun(
            workflow_name="wf",
            run_id=run,
            status="running",
            snapshot={"by": owner},
            owner=owner,
            lease_for=60,
        )

    await store.ask(save("r5", "a"))
    lost: list[str] = []

    async def step(run: str) -> None:
        for _ in range(5):
            try:
                await store.ask(save(run, "b"))
            except LeaseLost:
                lost.append(run)

    async with trio.open_nursery() as nursery:
        for i in range(16):
            nursery.start_soon(step, f"r{i}")
    assert lost == ["r5"] * 5
    claim = ClaimRuns(workflow_name="wf", owner="b", lease_for=60, own=True)
    owned = sorted(r.run_id for r in await store.ask(claim))
    assert owned == sorted(f"r{i}" for i in range(16) if i != 5)
    batches, writes = store._cell.instance.commit_stats  # type: ignore[union-attr]
    assert batches < writes


async def test_released_runs_are_claimable_at_once_and_wake_the_claimers(
    rt: Mastra, pg_url: str
) -> None:
    store = await rt.spawn(PostgresStore, pg_url, name="store")
    for run in ("r1", "r2"):
        await store.ask(
            SaveLeasedRun(
                workflow_name="wf",
                run_id=run,
                status="running",
                snapshot={},
                owner="a",
                lease_for=60,
            )
        )
    released, cancels = release_notice("wf"), cancel_notice("wf", "a")
    assert await store.ask(AwaitNotice(key=released)) == 0  # the claimer starts waiting
    assert await store.ask(AwaitNotice(key=cancels)) == 0
    assert await store.ask(RequestCancel(workflow_name="wf", run_id="r2")) is True
    with trio.fail_after(10):
        assert await store.ask(AwaitNotice(key=cancels, timeout=60)) == 1
    release = ReleaseLeases(workflow_name="wf", owner="a", run_ids=["r1", "gone"])
    assert await store.ask(release) == ["r1"]
    with trio.fail_after(10):
        assert await store.ask(AwaitNotice(key=released, timeout=60)) == 1
    claim = ClaimRuns(workflow_name="wf", owner="b", lease_for=60)
    assert [r.run_id for r in await store.ask(claim)] == ["r1"]


def _send(url: str, key: str, *, commit: bool) -> None:
    with (
        psycopg.connect(url, autocommit=True) as conn,
        conn.transaction(force_rollback=not commit),
    ):
        notify(conn, key)


async def test_wake_ups_come_on_commit_only_and_after_a_lost_connection(
    rt: Mastra, pg_url: str
) -> None:
    store = await rt.spawn(PostgresStore, pg_url, name="store")
    assert await store.ask(AwaitNotice(key="k")) == 0
    await trio.to_thread.run_sync(functools.partial(_send, pg_url, "k", commit=False))
    await trio.to_thread.run_sync(functools.partial(_send, pg_url, "other", commit=True))
    assert await store.ask(AwaitNotice(key="k", timeout=0.3)) == 0  # nothing for "k"
    await trio.to_thread.run_sync(functools.partial(_send, pg_url, "k", commit=True))
    with trio.fail_after(10):
        assert await store.ask(AwaitNotice(key="k", timeout=60)) == 1
    # the listener's connection is cut: it reconnects and wakes every waiter, since
    # whatever was sent meanwhile is lost
    with psycopg.connect(pg_url, autocommit=True) as conn:
        cut = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query = 'LISTEN mastra_wakeup' AND datname = current_database()"
        ).fetchall()
    assert cut == [(True,)]
    with trio.fail_after(10):
        assert await store.ask(AwaitNotice(key="k", after=1, timeout=60)) == 2
    await trio.to_thread.run_sync(functools.partial(_send, pg_url, "k", commit=True))
    with trio.fail_after(10):
        assert await store.ask(AwaitNotice(key="k", after=2, timeout=60)) == 3


# -- a database that goes away and comes back ---------------------------------------------
def _cut_every_other_connection(url: str) -> list[int]:
    """Terminate every other session of the database, as an administrator would, and wait
    until they are gone; their process ids."""
    with psycopg.connect(url, autocommit=True) as conn:
        cut = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        ]
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (cut,))
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (cut,)
        ).fetchone() != (0,):
            time.sleep(0.01)
    return cut


async def test_connections_the_server_cut_are_replaced_without_failing_a_request(
    rt: Mastra, pg_url: str
) -> None:
    store = await rt.spawn(functools.partial(PostgresStore, pg_url, max_connections=4), name="s")

    async def use_every_connection() -> None:
        async with trio.open_nursery() as nursery:
            for i in range(12):
                nursery.start_soon(store.ask, Put(collection="c", id=str(i), data=i))
                nursery.start_soon(store.ask, ListRecords(collection="c"))

    await use_every_connection()
    cut = await trio.to_thread.run_sync(_cut_every_other_connection, pg_url)
    assert len(cut) >= 2
    await use_every_connection()  # no StoreUnavailable: each stale connection is replaced


async def test_requests_fail_clearly_while_the_database_is_down_then_recover(
    rt: Mastra,
) -> None:
    with open_cluster() as cluster:
        url = cluster.create_database()
        store = await rt.spawn(
            functools.partial(PostgresStore, url, connect_timeout=1.0), name="store"
        )
        vectors = await rt.spawn(
            functools.partial(PgVectorStore, url, connect_timeout=1.0), name="vectors"
        )
        await store.ask(Put(collection="c", id="before", data=1))
        await vectors.ask(CreateIndex(index_name="i", dimension=2))
        await trio.to_thread.run_sync(cluster.stop)
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await store.ask(Put(collection="c", id="during", data=2))
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await store.ask(ListRecords(collection="c"))
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await vectors.ask(Query(index_name="i", query_vector=[1, 0]))
        await trio.to_thread.run_sync(cluster.start)
        await store.ask(Put(collection="c", id="after", data=3))
        records = await store.ask(ListRecords(collection="c"))
        assert [r.id for r in records] == ["after", "before"]
        await vectors.ask(Upsert(index_name="i", ids=["v"], vectors=[[1, 0]]))
        hits = await vectors.ask(Query(index_name="i", query_vector=[1, 0]))
        assert [h.id for h in hits] == ["v"]
        assert rt.stats()["store"].restarts == 0
        await rt.stop(store)
        await rt.stop(vectors)


async def test_an_unreachable_database_fails_the_start_clearly(rt: Mastra) -> None:
    with open_cluster() as cluster:
        url = cluster.create_database()
        cluster.stop()
        with pytest.raises(Exception, match="unreachable") as info:
            await rt.spawn(functools.partial(PostgresStore, url, connect_timeout=1.0), name="store")
        assert "password" not in str(info.value)
