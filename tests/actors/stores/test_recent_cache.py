"""The store's recent-message cache answers exactly what the database would."""

from __future__ import annotations

import functools
from pathlib import Path

import hypothesis.strategies as st
import pytest
import trio
from hypothesis import HealthCheck, given, settings

from actors.stores import InvalidRequest, SqliteStore
from actors.stores._recent import RecentCache, _Window
from actors.stores.messages import (
    Deleted,
    DeleteMessages,
    DeleteThread,
    EnsureThread,
    GetMessages,
    GetThread,
    LoadThread,
    MessageRecord,
    NewMessage,
    PruneMessages,
    SaveMessages,
    SaveThread,
    Transaction,
)
from runtime import ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime

THREADS = ["t1", "t2"]
IDS = [f"m{i}" for i in range(8)]

save = st.builds(
    lambda thread, ids, at: SaveMessages(
        messages=[
            NewMessage(
                id=f"{thread}-{i}",
                thread_id=thread,
                resource_id="u",
                role="user",
                content={"text": f"{i}@{at}"},
                created_at=None if at is None else float(at),
            )
            for i in ids
        ]
    ),
    st.sampled_from(THREADS),
    st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True),
    st.one_of(st.none(), st.integers(1, 5)),
)
delete = st.builds(
    lambda thread, ids: DeleteMessages(ids=[f"{thread}-{i}" for i in ids]),
    st.sampled_from(THREADS),
    st.lists(st.sampled_from(IDS), min_size=1, max_size=3),
)
prune = st.builds(lambda keep: PruneMessages(resource_id="u", keep_last=keep), st.integers(0, 6))
drop_thread = st.builds(lambda t: DeleteThread(thread_id=t), st.sampled_from(THREADS))
in_transaction = st.builds(lambda ops: Transaction(ops=ops), st.lists(save | delete, max_size=2))
read = st.builds(
    lambda t, last: GetMessages(thread_id=t, last=last),
    st.sampled_from(THREADS),
    st.one_of(st.none(), st.integers(1, 6)),
)
operation = save | delete | prune | drop_thread | in_transaction | read


async def _stores(rt: Mastra, directory: Path) -> tuple[ActorRef, ActorRef]:
    cached = await rt.spawn(
        functools.partial(SqliteStore, str(directory / "cached.db"), synchronous="off"),
        name="cached",
        kind="store",
    )
    plain = await rt.spawn(
        functools.partial(SqliteStore, str(directory / "plain.db"), synchronous="off", cache=False),
        name="plain",
        kind="store",
    )
    for store in (cached, plain):
        for thread in THREADS:
            await store.ask(SaveThread(id=thread, resource_id="u"))
    return cached, plain


def _check_index(store: ActorRef) -> None:
    """The cache's message-id index names exactly the windowed messages, by thread."""
    cache = store._cell.instance._cache  # type: ignore[union-attr]
    expected = {m: t for t, w in cache._windows.items() for m in w.ids}
    assert cache._thread_of == expected
    for window in cache._windows.values():
        assert window.ids == {r.id for r in window.records}


def _bodies(records: object) -> list[tuple[str, object]]:
    assert isinstance(records, list)
    return [(r.id, r.content) for r in records]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(operation, max_size=25))
def test_cached_reads_match_the_database(tmp_path_factory: object, ops: list[object]) -> None:
    async def main() -> None:
        directory = Path(str(tmp_path_factory.mktemp("recent")))  # type: ignore[attr-defined]
        config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
        async with open_runtime(config) as rt:
            cached, plain = await _stores(rt, directory)
            for op in ops:
                if isinstance(op, GetMessages):
                    assert _bodies(await cached.ask(op)) == _bodies(await plain.ask(op)), op
                    continue
                await cached.ask(op)
                await plain.ask(op)
                _check_index(cached)
            for thread in THREADS:
                for last in (None, 1, 3, 6):
                    op = GetMessages(thread_id=thread, last=last)
                    assert _bodies(await cached.ask(op)) == _bodies(await plain.ask(op)), op

    trio.run(main)


async def test_repeated_history_reads_come_from_memory(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        await store.ask(EnsureThread(id="t", resource_id="u"))
        cache = store._cell.instance._cache  # type: ignore[union-attr]
        for turn in range(5):
            history = await store.ask(GetMessages(thread_id="t", last=4))
            assert len(history) == min(2 * turn, 4)
            message = NewMessage(id=f"q{turn}", thread_id="t", role="user", content="q")
            answer = NewMessage(id=f"a{turn}", thread_id="t", role="assistant", content="a")
            await store.ask(SaveMessages(messages=[message, answer]))
        assert (cache.hits, cache.misses) == (4, 1)
        ids = [r.id for r in await store.ask(GetMessages(thread_id="t", last=3))]
        assert ids == ["a3", "q4", "a4"]


async def test_ensure_thread_creates_once_and_keeps_an_existing_thread(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        await store.ask(SaveThread(id="t", resource_id="u", title="kept"))
        await store.ask(EnsureThread(id="t", resource_id="other"))
        await store.ask(EnsureThread(id="new", resource_id="u"))
        kept = await store.ask(GetThread(thread_id="t"))
        created = await store.ask(GetThread(thread_id="new"))
        assert (kept.title, kept.resource_id) == ("kept", "u")
        assert created.resource_id == "u"
        await store.ask(DeleteThread(thread_id="new"))
        await store.ask(EnsureThread(id="new", resource_id="u"))  # forgotten on delete
        assert await store.ask(GetThread(thread_id="new")) is not None


async def test_updating_an_old_message_leaves_the_newest_window_right(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        await store.ask(EnsureThread(id="t", resource_id="u"))

        def message(i: int, text: str) -> NewMessage:
            return NewMessage(
                id=f"m{i}", thread_id="t", role="user", content=text, created_at=float(i)
            )

        await store.ask(SaveMessages(messages=[message(i, "old") for i in range(5)]))
        assert [r.id for r in await store.ask(GetMessages(thread_id="t", last=2))] == [
            "m3",
            "m4",
        ]
        await store.ask(SaveMessages(messages=[message(0, "edited")]))  # outside the window
        newest = await store.ask(GetMessages(thread_id="t", last=3))
        assert [(r.id, r.content) for r in newest] == [("m2", "old"), ("m3", "old"), ("m4", "old")]


async def test_a_message_dated_earlier_lands_in_its_place(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        await store.ask(EnsureThread(id="t", resource_id="u"))

        def message(id: str, at: float) -> NewMessage:
            return NewMessage(id=id, thread_id="t", role="user", content=id, created_at=at)

        await store.ask(SaveMessages(messages=[message("late", 20.0)]))
        assert len(await store.ask(GetMessages(thread_id="t"))) == 1  # remembered, complete
        await store.ask(SaveMessages(messages=[message("early", 10.0), message("mid", 15.0)]))
        ids = [r.id for r in await store.ask(GetMessages(thread_id="t", last=3))]
        assert ids == ["early", "mid", "late"]


async def test_a_window_holds_only_about_what_its_readers_ask_for(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        assert await store.ask(LoadThread(thread_id="t", resource_id="u", last=3)) == []
        for i in range(100):
            message = NewMessage(id=f"m{i}", thread_id="t", role="user", content=i)
            await store.ask(SaveMessages(messages=[message]))
        window = store._cell.instance._cache._windows["t"]  # type: ignore[union-attr]
        assert 3 <= len(window.records) <= 3 + 32
        newest = await store.ask(GetMessages(thread_id="t", last=3))
        assert [r.id for r in newest] == ["m97", "m98", "m99"]
        everything = await store.ask(GetMessages(thread_id="t"))
        assert len(everything) == 100  # beyond the window: read from the database


def test_forgetting_messages_touches_only_their_threads_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = RecentCache()
    for t in range(500):
        records = [_record(f"t{t}", f"t{t}-m{i}", i) for i in range(5)]
        cache.reading(f"t{t}")
        cache.read(GetMessages(thread_id=f"t{t}", last=10), records)
    touched: list[set[str]] = []
    drop = _Window.drop

    def spy(window: _Window, ids: set[str]) -> None:
        touched.append(window.ids.copy())
        drop(window, ids)

    monkeypatch.setattr(_Window, "drop", spy)
    deleted = Deleted(ids=["t7-m1", "t7-m3", "nowhere"])
    cache.committed([DeleteMessages(ids=deleted.ids)], [deleted])
    assert len(touched) == 1 and "t7-m1" in touched[0]
    found = cache.messages(GetMessages(thread_id="t7", last=10))
    assert found is not None and [r.id for r in found] == ["t7-m0", "t7-m2", "t7-m4"]


def _record(thread: str, id: str, seq: int) -> MessageRecord:
    return MessageRecord(
        id=id,
        thread_id=thread,
        resource_id="u",
        role="user",
        content=id,
        type="text",
        importance=0.0,
        created_at=1.0,
        seq=seq,
    )


def test_an_evicted_or_replaced_window_leaves_the_index() -> None:
    cache = RecentCache(windows=2)
    for t in ("a", "b", "c", "c"):  # "a" is evicted, then "c" is read again
        cache.reading(t)
        cache.read(GetMessages(thread_id=t), [_record(t, f"{t}-m{i}", i) for i in range(3)])
    assert set(cache._windows) == {"b", "c"}
    assert cache._thread_of == {f"{t}-m{i}": t for t in ("b", "c") for i in range(3)}


async def test_a_turn_on_a_thread_the_store_does_not_know_costs_one_commit_and_no_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "s.db")
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:  # an earlier life of the store wrote "old"
        first = await rt.spawn(SqliteStore, path, name="s", kind="store")
        message = NewMessage(id="m", thread_id="old", role="user", content="hi")
        await first.ask(SaveMessages(messages=[message]))
    reads: list[object] = []
    real_read = SqliteStore._read

    async def counted(self: SqliteStore, msg: object) -> object:
        reads.append(msg)
        return await real_read(self, msg)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteStore, "_read", counted)
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, path, name="s", kind="store")
        actor = store._cell.instance
        assert isinstance(actor, SqliteStore)
        assert await store.ask(LoadThread(thread_id="new", resource_id="u", last=5)) == []
        old = await store.ask(LoadThread(thread_id="old", resource_id="u", last=5))
        assert [r.id for r in old] == ["m"]
        assert actor.commit_stats[1] == 2  # one write each, and nothing read on the side
        assert reads == []
        assert [r.id for r in await store.ask(GetMessages(thread_id="old", last=5))] == ["m"]
        assert await store.ask(GetMessages(thread_id="new", last=5)) == []
        assert reads == []  # both answered from what the loads read
        assert (await store.ask(GetThread(thread_id="new"))).resource_id == "u"


async def test_a_load_with_a_bad_limit_creates_no_thread(tmp_path: Path) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, str(tmp_path / "s.db"), name="s", kind="store")
        with pytest.raises(InvalidRequest, match="must be >= 0"):
            await store.ask(LoadThread(thread_id="t", resource_id="u", last=-1))
        assert await store.ask(GetThread(thread_id="t")) is None
