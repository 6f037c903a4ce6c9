"""Kept traces written to a store actor, so they outlive the process.

``TracePersister`` reads the traces a store holds into a ``TraceStore`` at start (the
newest ``max_traces`` of them; the others are deleted), then writes what changed every
``flush_every`` seconds in one transaction: a record per trace in the collection
``mastra_traces`` (all its spans, replaced as spans arrive), deleted when the trace is
dropped from memory, so the store holds at most what memory does. Record ids start with the
time a trace was first written, so reading them back in id order restores the newest last.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from actors.observability._records import Record
from actors.observability._store import TraceStore
from actors.stores import StoreError
from actors.stores.messages import Delete, ListRecords, Put, Transaction, TransactionOp
from runtime import ActorError, ActorRef

__all__ = ["TRACES", "TracePersister"]

log = logging.getLogger("actors.observability")

TRACES = "mastra_traces"
"""The store collection of kept traces."""


class TracePersister:
    """Moves traces between ``traces`` (memory) and the store actor ``store`` (see module).

    A write that fails (the store is down) is logged and retried with the next one;
    nothing taken from memory is forgotten meanwhile.
    """

    def __init__(self, traces: TraceStore, store: ActorRef) -> None:
        self.traces = traces
        self.store = store
        self._ids: dict[str, str] = {}  # trace id -> its record id
        self._puts: dict[str, list[Record]] = {}  # taken, not yet written
        self._deletes: set[str] = set()  # record ids to delete, not yet deleted

    async def restore(self) -> int:
        """Read the stored traces into memory and start noting changes; how many were
        read. Store errors propagate (the actor's start fails and is retried)."""
        self.traces.track_changes()
        records = await self.store.ask(ListRecords(collection=TRACES, limit=None))
        for record in records:
            data: dict[str, Any] = record.data
            trace_id = data["traceId"]
            self._ids[trace_id] = record.id
            self.traces.restore(trace_id, data["spans"])
        return len(records)

    async def flush(self) -> None:
        """Write the traces that changed and delete the dropped ones, in one transaction."""
        changed, dropped = self.traces.take_changes()
        self._puts.update(changed)
        for trace_id in dropped:
            self._puts.pop(trace_id, None)
            record_id = self._ids.pop(trace_id, None)
            if record_id is not None:
                self._deletes.add(record_id)
        ops: list[TransactionOp] = [
            Put(collection=TRACES, id=self._record_id(t), data={"traceId": t, "spans": spans})
            for t, spans in self._puts.items()
        ]
        ops += [Delete(collection=TRACES, id=record_id) for record_id in sorted(self._deletes)]
        if not ops:
            return
        try:
            await self.store.ask(Transaction(ops=ops))
        except (StoreError, ActorError) as exc:
            log.warning("traces not stored, retried with the next batch: %s", exc)
            return
        self._puts.clear()
        self._deletes.clear()

    def _record_id(self, trace_id: str) -> str:
        record_id = self._ids.get(trace_id)
        if record_id is None:
            record_id = self._ids[trace_id] = f"{time.time_ns():020d}-{trace_id}"
        return record_id
