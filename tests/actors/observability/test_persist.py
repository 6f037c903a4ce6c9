"""Kept traces written to a real SQLite store: read back after a restart, bounded like the
ones in memory, and retried when the store fails."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.observability import (
    TRACES,
    GetTrace,
    ListTraces,
    Observability,
    TraceFilter,
    TracePersister,
    TraceStore,
)
from actors.stores import SqliteStore, StoreError, StoreUnavailable
from actors.stores.messages import ListRecords, Put, Transaction
from runtime import Actor, ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime
from tests.actors.observability.test_store import _agent_trace

CONFIG = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))


async def _spawn(rt: Mastra, db: Path, traces: TraceStore) -> tuple[ActorRef, ActorRef]:
    store = await rt.spawn(functools.partial(SqliteStore, str(db)), name="store", kind="store")
    observability = await rt.spawn(
        functools.partial(Observability, traces, persist_to="store", flush_every=0.02),
        name="observability",
        kind="observability",
    )
    return store, observability


async def _stored(store: ActorRef, *trace_ids: str) -> list[Any]:
    """The stored trace records, once they are those of ``trace_ids``."""
    with trio.fail_after(10):
        while True:
            records = await store.ask(ListRecords(collection=TRACES, limit=None))
            if sorted(r.data["traceId"] for r in records) == sorted(trace_ids):
                return list(records)
            await trio.sleep(0.01)


async def test_kept_traces_are_read_back_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "mastra.db"
    async with open_runtime(CONFIG) as rt:
        traces = TraceStore(batch_size=1)
        store, _ = await _spawn(rt, db, traces)
        _agent_trace(traces, "1", agent="echo")
        _agent_trace(traces, "2", agent="other")
        await _stored(store, "1", "2")
        _agent_trace(traces, "3", agent="echo")  # written as the actor stops
    async with open_runtime(CONFIG) as rt:
        _, observability = await _spawn(rt, db, TraceStore())  # a new process's memory
        page = await observability.ask(ListTraces(TraceFilter(entity_id="echo")))
        spans = await observability.ask(GetTrace(trace_id="2"))
    assert page.total == 2
    assert sorted(root["traceId"] for root in page.roots) == ["1", "3"]
    assert sorted(span["spanId"] for span in spans) == ["a", "b"]


async def test_the_store_holds_no_more_traces_than_memory(tmp_path: Path) -> None:
    db = tmp_path / "mastra.db"
    async with open_runtime(CONFIG) as rt:
        traces = TraceStore(max_traces=2, batch_size=1)
        store, _ = await _spawn(rt, db, traces)
        for trace in ("1", "2", "3"):
            _agent_trace(traces, trace)
        await _stored(store, "2", "3")
        _agent_trace(traces, "4")
        await _stored(store, "3", "4")
    async with open_runtime(CONFIG) as rt:  # fewer kept now: the oldest stored go
        traces = TraceStore(max_traces=1)
        store, _ = await _spawn(rt, db, traces)
        await _stored(store, "4")
    assert traces.trace("4") is not None and traces.trace("3") is None


async def test_a_missing_store_fails_the_start_naming_it(tmp_path: Path) -> None:
    async with open_runtime(CONFIG) as rt:
        with pytest.raises(Exception, match="no store named 'nope'"):
            await rt.spawn(
                functools.partial(Observability, TraceStore(), persist_to="nope"),
                name="observability",
                kind="observability",
            )


class _FlakyStore(Actor):
    """A store whose first transaction fails as a database that is down would."""

    expected_errors = (StoreError,)

    def __init__(self) -> None:
        self.failures = 1
        self.written: list[Transaction] = []

    async def receive(self, msg: Transaction | ListRecords) -> list[Any]:
        if isinstance(msg, Transaction):
            if self.failures:
                self.failures -= 1
                raise StoreUnavailable("the database is down")
            self.written.append(msg)
        return []


async def test_a_failed_write_is_retried_with_the_next_one() -> None:
    async with open_runtime(CONFIG) as rt:
        store = await rt.spawn(_FlakyStore, name="flaky", kind="store")
        traces = TraceStore(batch_size=1)
        persister = TracePersister(traces, store)
        await persister.restore()
        _agent_trace(traces, "1")
        await persister.flush()  # fails: kept for the next
        _agent_trace(traces, "2")
        await persister.flush()
        flaky = store._cell.instance
    assert isinstance(flaky, _FlakyStore)
    [written] = flaky.written
    assert sorted(op.data["traceId"] for op in written.ops if isinstance(op, Put)) == ["1", "2"]
