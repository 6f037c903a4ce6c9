"""Feed finished OpenTelemetry spans into a ``TraceStore``.

``TraceStoreProcessor`` is a span processor for a tracer provider one owns;
``TraceStoreExporter`` hands the same work to the runtime's own provider through
``open_runtime(span_exporter=...)``. Either converts each span when it ends and offers it
to the store's batch; neither blocks on I/O nor raises into the code that ended the span.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from actors.observability._records import span_record
from actors.observability._store import TraceStore, shared_store

__all__ = ["TraceStoreExporter", "TraceStoreProcessor", "processor"]

log = logging.getLogger("actors.observability")


class TraceStoreProcessor(SpanProcessor):
    """Offers every ended span to ``store``; a span that cannot be converted is logged and
    skipped."""

    def __init__(self, store: TraceStore) -> None:
        self.store = store

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing happens when a span starts: only finished spans are stored."""

    def on_end(self, span: ReadableSpan) -> None:
        """Convert the span and offer it to the store's batch."""
        try:
            record = span_record(span)
        except Exception:
            log.exception("span %r could not be recorded", span.name)
            return
        if record is not None:
            self.store.offer(record)

    def shutdown(self) -> None:
        """Commit the waiting batch."""
        self.store.flush()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Commit the waiting batch; always succeeds."""
        self.store.flush()
        return True


class TraceStoreExporter(SpanExporter):
    """A span exporter that stores spans through a ``TraceStoreProcessor``."""

    def __init__(self, store: TraceStore) -> None:
        self.processor = TraceStoreProcessor(store)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Store ``spans``; always succeeds."""
        for span in spans:
            self.processor.on_end(span)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Commit the waiting batch."""
        self.processor.shutdown()


def processor() -> TraceStoreProcessor:
    """A span processor feeding the process's ``shared_store()``: name it in a config as
    ``telemetry.span_processors = ["actors.observability:processor"]``."""
    return TraceStoreProcessor(shared_store())
