"""The trace store: kept only with a run inside, bounded, batched, filtered and paged."""

from __future__ import annotations

from typing import Any

from actors.observability import TraceFilter, TraceStore


def _span(trace: str, span: str, parent: str | None, kind: str = "generic", **extra: Any) -> Any:
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "name": f"{kind} {span}",
        "spanType": kind,
        "startedAt": f"2026-01-01T00:00:{int(trace):02d}.000Z",
        "endedAt": f"2026-01-01T00:00:{int(trace):02d}.500Z",
        "entityType": extra.get("entity_type"),
        "entityId": extra.get("entity"),
        "entityName": extra.get("entity"),
        "error": None,
    }


def _agent_trace(store: TraceStore, trace: str, agent: str = "echo") -> None:
    store.offer(_span(trace, "b", "a", "agent_run", entity_type="agent", entity=agent))
    store.offer(_span(trace, "a", None))


def test_a_trace_without_a_run_is_dropped_when_its_root_ends() -> None:
    store = TraceStore(batch_size=1)
    store.offer(_span("1", "x", "r"))
    store.offer(_span("1", "r", None))
    _agent_trace(store, "2")
    assert len(store) == 1
    assert store.trace("1") is None
    total, roots = store.roots(TraceFilter(entity_id="echo"))
    assert total == 1
    assert (roots[0]["spanId"], roots[0]["spanType"], roots[0]["status"]) == (
        "a",
        "agent_run",
        "success",
    )


def test_bounded_in_traces_and_spans_oldest_first() -> None:
    store = TraceStore(max_traces=3, max_spans=3, batch_size=4)
    for trace in range(1, 6):
        _agent_trace(store, str(trace))
    assert len(store) == 3
    assert store.trace("1") is None and store.trace("5") is not None
    for extra in range(5):
        store.offer(_span("5", f"e{extra}", "a"))
    spans = store.trace("5")
    assert spans is not None and len(spans) == 3
    assert store.dropped == 4


def test_batches_commit_when_full_or_read() -> None:
    store = TraceStore(batch_size=100)
    _agent_trace(store, "1")
    assert not store._traces  # still in the batch
    assert len(store) == 1  # a read commits it


def test_filters_order_and_pages() -> None:
    store = TraceStore()
    for trace in range(1, 8):
        _agent_trace(store, str(trace), agent="echo" if trace % 2 else "other")
    total, roots = store.roots(TraceFilter(entity_id="echo", per_page=2, page=1))
    assert total == 4
    assert [r["traceId"] for r in roots] == ["3", "1"]
    total, roots = store.roots(TraceFilter(per_page=3, descending=False))
    assert (total, [r["traceId"] for r in roots]) == (7, ["1", "2", "3"])
    assert store.roots(TraceFilter(status="error"))[0] == 0
