"""A bounded, thread-safe store of finished spans grouped by trace, queried like Mastra's.

Spans are offered one at a time (from any thread: OpenTelemetry ends spans where they
end) into a batch, committed under one lock acquisition when the batch is full or when
someone reads. A trace is kept once it holds a run of an agent, workflow, tool or model
(``ANCHOR_TYPES``); until then its spans wait among a bounded number of candidates, and a
candidate whose root span ends first is dropped (a page polling ``GET /api/agents``
leaves nothing behind). At most ``max_traces`` traces of at most ``max_spans`` spans each
are kept; the oldest trace goes first. Nothing here blocks for long or waits on I/O.

A persister (``Observability`` with ``persist_to``) calls ``track_changes`` and then takes,
now and then, the kept traces that changed and the ones dropped (``take_changes``), and
puts traces read back from storage with ``restore``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from actors.observability._records import ANCHOR_TYPES, Record, status_of

__all__ = ["TraceFilter", "TraceStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceFilter:
    """Which traces to list, matched against each trace's root (as listed), and the page.

    ``page`` counts from 0. Dates are timezone-aware; ``None`` matches everything.
    """

    page: int = 0
    per_page: int = 10
    entity_type: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    span_type: str | None = None
    status: str | None = None
    trace_id: str | None = None
    name: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    order_by: Literal["startedAt", "endedAt"] = "startedAt"
    descending: bool = True


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def _matches(root: Record, query: TraceFilter) -> bool:
    wanted = {
        "entityType": query.entity_type,
        "entityId": query.entity_id,
        "entityName": query.entity_name,
        "spanType": query.span_type,
        "traceId": query.trace_id,
    }
    if any(value is not None and root.get(key) != value for key, value in wanted.items()):
        return False
    if query.status is not None and root["status"] != query.status:
        return False
    if query.name is not None and query.name.lower() not in str(root.get("name", "")).lower():
        return False
    started = _when(root.get("startedAt"))
    if query.started_from is not None and (started is None or started < query.started_from):
        return False
    return not (query.started_to is not None and (started is None or started > query.started_to))


def _depth(span_id: str, parents: dict[str, str | None]) -> int:
    """How many ancestors of ``span_id`` are in the trace (a cycle stops the count)."""
    depth, seen = 0, {span_id}
    parent = parents.get(span_id)
    while parent is not None and parent in parents and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = parents.get(parent)
    return depth


def listed_root(spans: list[Record]) -> Record:
    """The trace's root as listed, with its status: the earliest span whose parent is not in
    the trace. A root that names no entity (the HTTP request) takes the entity and span type
    of the outermost run inside it (the one with the fewest ancestors), so ``entityId=echo``
    finds the requests that ran it."""
    ids = {span["spanId"] for span in spans}
    tops = [s for s in spans if s.get("parentSpanId") is None or s["parentSpanId"] not in ids]
    first: Record = min(tops or spans, key=lambda s: str(s.get("startedAt") or ""))
    root: Record = dict(first)
    if root.get("entityType") is None:
        runs = [s for s in spans if s.get("entityType") is not None]
        if runs:
            parents = {s["spanId"]: s.get("parentSpanId") for s in spans}
            outer = min(runs, key=lambda s: _depth(s["spanId"], parents))
            for key in ("entityType", "entityId", "entityName", "spanType"):
                root[key] = outer[key]
    root["status"] = status_of(root)
    return root


class TraceStore:
    """Finished spans by trace, bounded in traces, spans per trace and waiting candidates.

    ``offer`` and every read may be called from any thread. ``dropped`` counts the spans
    refused because a trace was full.
    """

    def __init__(
        self,
        *,
        max_traces: int = 1000,
        max_spans: int = 2000,
        max_candidates: int = 256,
        batch_size: int = 64,
    ) -> None:
        self.max_traces = max_traces
        self.max_spans = max_spans
        self.max_candidates = max_candidates
        self.batch_size = batch_size
        self.dropped = 0
        self._lock = threading.Lock()
        self._batch: list[Record] = []
        self._traces: OrderedDict[str, list[Record]] = OrderedDict()
        self._candidates: OrderedDict[str, list[Record]] = OrderedDict()
        self._tracking = False
        self._changed: set[str] = set()  # kept traces with spans not taken yet
        self._evicted: OrderedDict[str, None] = OrderedDict()  # dropped, not taken yet

    def offer(self, record: Record) -> None:
        """Add a finished span's record; committed with its batch."""
        with self._lock:
            self._batch.append(record)
            if len(self._batch) >= self.batch_size:
                self._commit()

    def flush(self) -> None:
        """Commit the waiting batch now."""
        with self._lock:
            self._commit()

    def _commit(self) -> None:
        batch, self._batch = self._batch, []
        for record in batch:
            self._place(record)

    def _append(self, spans: list[Record], record: Record) -> None:
        if len(spans) < self.max_spans:
            spans.append(record)
        else:
            self.dropped += 1

    def _keep(self, trace_id: str, spans: list[Record], *, changed: bool) -> None:
        self._traces[trace_id] = spans
        if changed and self._tracking:
            self._changed.add(trace_id)
        while len(self._traces) > self.max_traces:
            gone, _ = self._traces.popitem(last=False)
            if self._tracking:
                self._changed.discard(gone)
                self._evicted[gone] = None
                while len(self._evicted) > 10 * self.max_traces:  # nobody takes them
                    self._evicted.popitem(last=False)

    def _place(self, record: Record) -> None:
        trace_id = record["traceId"]
        kept = self._traces.get(trace_id)
        if kept is not None:
            self._append(kept, record)
            if self._tracking:
                self._changed.add(trace_id)
            return
        spans = self._candidates.setdefault(trace_id, [])
        self._append(spans, record)
        if record["spanType"] in ANCHOR_TYPES:
            self._keep(trace_id, self._candidates.pop(trace_id), changed=True)
        elif record.get("parentSpanId") is None:
            del self._candidates[trace_id]  # the root ended and nothing worth keeping ran
        while len(self._candidates) > self.max_candidates:
            self._candidates.popitem(last=False)

    def track_changes(self) -> None:
        """From now on, note which kept traces change and which are dropped."""
        with self._lock:
            self._tracking = True

    def take_changes(self) -> tuple[dict[str, list[Record]], list[str]]:
        """The kept traces that changed since the last take (with all their spans) and the
        ids of the traces dropped since; both are forgotten here."""
        with self._lock:
            self._commit()
            changed = {t: list(self._traces[t]) for t in self._changed if t in self._traces}
            evicted = list(self._evicted)
            self._changed.clear()
            self._evicted.clear()
        return changed, evicted

    def restore(self, trace_id: str, spans: list[Record]) -> None:
        """Keep a trace read back from storage as the newest (not a change to take); one
        beyond ``max_traces`` drops the oldest, as a new one would."""
        with self._lock:
            self._commit()
            self._traces.pop(trace_id, None)
            self._keep(trace_id, spans[: self.max_spans], changed=False)

    def trace(self, trace_id: str) -> list[Record] | None:
        """Every kept span of a trace, oldest first; None for a trace not kept."""
        with self._lock:
            self._commit()
            spans = self._traces.get(trace_id)
            found = None if spans is None else list(spans)
        if found is not None:
            found.sort(key=lambda s: s.get("startedAt") or "")
        return found

    def roots(self, query: TraceFilter) -> tuple[int, list[Record]]:
        """``(total matching, the page of roots)`` ordered as the query asks."""
        with self._lock:
            self._commit()
            traces = [list(spans) for spans in self._traces.values()]
        roots = [root for root in map(listed_root, traces) if _matches(root, query)]
        roots.sort(key=lambda r: r.get(query.order_by) or "", reverse=query.descending)
        start = query.page * query.per_page
        return len(roots), roots[start : start + query.per_page]

    def __len__(self) -> int:
        with self._lock:
            self._commit()
            return len(self._traces)


_shared: TraceStore | None = None


def shared_store() -> TraceStore:
    """The process's trace store for configs (made on first use, with the default bounds):
    what ``processor()`` feeds and an ``Observability`` actor given no store reads."""
    global _shared  # noqa: PLW0603 - one store per process, like a logging handler
    if _shared is None:
        _shared = TraceStore()
    return _shared
