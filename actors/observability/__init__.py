"""Traces for Studio: finished OpenTelemetry spans kept in memory, bounded, in Mastra's
span-record shape, and an actor that answers the observability routes from them and can
keep them in a store actor too (``persist_to``), so they outlive a restart.

From a config (``serve``): ``telemetry.span_processors = ["actors.observability:processor"]``
and an actor ``factory = "actors.observability:Observability"``, ``kind = "observability"``
(with ``options = { persist_to = "store" }`` to keep traces in that store actor too), both
on the process's ``shared_store()``. In code:

```python
store = TraceStore(max_traces=1000)
async with open_runtime(config, span_exporter=TraceStoreExporter(store)) as rt:
    await rt.spawn(functools.partial(Observability, store), name="observability",
                   kind="observability")
```
"""

from actors.observability._actor import GetTrace, ListTraces, Observability, TracePage
from actors.observability._persist import TRACES, TracePersister
from actors.observability._processor import TraceStoreExporter, TraceStoreProcessor, processor
from actors.observability._records import ANCHOR_TYPES, Record, light, span_record, status_of
from actors.observability._store import TraceFilter, TraceStore, listed_root, shared_store

__all__ = [
    "ANCHOR_TYPES",
    "TRACES",
    "GetTrace",
    "ListTraces",
    "Observability",
    "Record",
    "TraceFilter",
    "TracePage",
    "TracePersister",
    "TraceStore",
    "TraceStoreExporter",
    "TraceStoreProcessor",
    "light",
    "listed_root",
    "processor",
    "shared_store",
    "span_record",
    "status_of",
]
