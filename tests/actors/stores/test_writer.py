"""The group-commit writer answers every accepted write: committed, failed, or refused."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import apsw
import pytest
import trio

from actors.stores import SqliteStore, StoreError, StoreUnavailable
from actors.stores._sql import Database
from actors.stores._writer import GroupCommitWriter
from actors.stores.messages import Get, Put
from runtime import ActorStopped, Mastra, Reply


async def test_a_graceful_stop_commits_every_accepted_write(rt: Mastra, tmp_path: Path) -> None:
    path = str(tmp_path / "drain.db")
    store = await rt.spawn(SqliteStore, path, name="drain", kind="store")
    acknowledged: list[str] = []
    refused: list[str] = []

    async def write(i: int) -> None:
        try:
            await store.ask(Put(collection="c", id=str(i), data={"i": i}))
        except ActorStopped:
            refused.append(str(i))
        else:
            acknowledged.append(str(i))

    async with trio.open_nursery() as nursery:
        for i in range(300):
            nursery.start_soon(write, i)
        await trio.lowlevel.checkpoint()  # some writes reach the writer, others wait in the mailbox
        nursery.start_soon(rt.stop, store)
    assert len(acknowledged) + len(refused) == 300
    assert acknowledged, "the writes queued at the writer were committed, not dropped"

    reopened = await rt.spawn(SqliteStore, path, name="reopened", kind="store")
    for id in acknowledged:
        assert (await reopened.ask(Get(collection="c", id=id))).data == {"i": int(id)}


def _explode(conn: apsw.Connection, op: str) -> object:
    if op == "boom":
        raise RuntimeError("the disk caught fire")
    conn.execute("CREATE TABLE IF NOT EXISTS t (v TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (op,))
    return op


async def test_a_batch_that_breaks_the_writer_fails_alone_and_the_queue_still_commits(
    tmp_path: Path,
) -> None:
    db = Database(str(tmp_path / "w.db"))
    writer = GroupCommitWriter[str](db, _explode, max_batch=1)
    replies = [Reply() for _ in range(3)]
    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="the disk caught fire")):
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            assert await writer.submit("fine") == "fine"
            for op, reply in zip(("boom", "queued-1", "queued-2"), replies, strict=True):
                await writer.enqueue(op, reply)
            await trio.sleep_forever()
    with pytest.raises(StoreUnavailable, match="the disk caught fire"):
        await replies[0].wait()
    assert [await reply.wait() for reply in replies[1:]] == ["queued-1", "queued-2"]
    with pytest.raises(StoreError, match="takes no more writes"):
        await writer.enqueue("late", Reply())
    db.close()


async def test_a_failing_commit_hook_fails_its_batch_and_stops_the_writer(tmp_path: Path) -> None:
    def hook(ops: object, outcomes: object) -> None:
        raise RuntimeError("the cache broke")

    db = Database(str(tmp_path / "h.db"))
    writer = GroupCommitWriter[str](db, _explode, on_commit=hook)
    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="the cache broke")):
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            with pytest.raises(StoreUnavailable, match="the cache broke"):
                await writer.submit("committed, but its hook failed")
            await trio.sleep_forever()
    db.close()


class _Gated:
    """A database whose batches wait until ``gate`` is set."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.batches: list[list[str]] = []

    def write_batch(self, ops: Sequence[Any], apply: Callable[[Any, Any], Any]) -> list[Any]:
        self.gate.wait(10)
        self.batches.append(list(ops))
        return list(ops)


async def test_a_full_queue_makes_writers_wait_in_turn_and_a_cancelled_wait_takes_no_place() -> (
    None
):
    db = _Gated()
    writer = GroupCommitWriter[str](db, _explode, queue_size=2)
    order: list[str] = []

    async def write(op: str) -> None:
        order.append(await writer.submit(op))

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        replies = [Reply(), Reply()]
        await writer.enqueue("a", replies[0])
        await writer.enqueue("b", replies[1])  # the queue is full from here on
        with trio.move_on_after(0.05) as waited:
            await writer.enqueue("cancelled", Reply())
        assert waited.cancelled_caught
        nursery.start_soon(write, "c")
        await trio.sleep(0.01)
        nursery.start_soon(write, "d")
        await trio.sleep(0.01)
        assert order == []
        db.gate.set()
        assert [await r.wait() for r in replies] == ["a", "b"]
        with trio.fail_after(5):
            while len(order) < 2:
                await trio.sleep(0.01)
        await writer.aclose()
    assert sorted(order) == ["c", "d"]
    # the cancelled write never took a place
    committed = [op for batch in db.batches for op in batch]
    assert committed[:2] == ["a", "b"]
    assert sorted(committed[2:]) == ["c", "d"]
