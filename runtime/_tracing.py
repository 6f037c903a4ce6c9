"""Spans per message hop, W3C traceparent propagation, and per-actor OTel metrics.

Tracing is owned by one runtime: it builds its own ``TracerProvider`` and ``MeterProvider``
from ``TelemetryConfig`` instead of touching OpenTelemetry's global providers, so two
runtimes in one process (tests, embedding) never mix their spans.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from runtime._current import current_cell
from runtime._errors import ConfigError

if TYPE_CHECKING:
    from runtime._config import TelemetryConfig

__all__ = ["ActorCounters", "Tracing", "format_traceparent", "parse_traceparent"]

ActorCounters = Callable[[], Iterable[tuple[dict[str, str], tuple[int, int, int, int]]]]
"""Yields ``(attributes, (handled, failed, restarts, mailbox_depth))`` per live actor."""


def format_traceparent(ctx: SpanContext) -> str:
    """Render a span context as a W3C ``traceparent`` header value."""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def parse_traceparent(value: str) -> SpanContext | None:
    """Parse a W3C ``traceparent``; None when it is malformed (the hop starts a new trace)."""
    parts = value.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3], 16)
    except ValueError:
        return None
    if trace_id == 0 or span_id == 0:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))


def _exporter(name: str, endpoint: str | None) -> SpanExporter | None:
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
        OTLPSpanExporter,
    )

    exporter: SpanExporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    return exporter


def _metric_reader(name: str, endpoint: str | None) -> MetricReader | None:
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # type: ignore[import-not-found,unused-ignore]
        OTLPMetricExporter,
    )

    exporter = OTLPMetricExporter(endpoint=endpoint) if endpoint else OTLPMetricExporter()
    return PeriodicExportingMetricReader(exporter)


class Tracing:
    """The runtime's tracer, meter and the hot-path helpers the kernel calls per message.

    With ``enabled = False``, or with no exporter to send spans to (``exporter = "none"`` and
    no ``span_exporter``), no span is created and no traceparent is captured: the cost per
    message is one attribute read. Metrics are independent of this.
    """

    def __init__(
        self,
        config: TelemetryConfig,
        *,
        span_exporter: SpanExporter | None = None,
        metric_reader: MetricReader | None = None,
    ) -> None:
        self.enabled = config.enabled
        self.record_content = config.record_content
        self._sample_roots = config.sampling > 0
        resource = Resource.create({"service.name": config.service_name})
        self._provider: TracerProvider | None = None
        self._meter_provider: MeterProvider | None = None
        configured = _exporter(config.exporter, config.otlp_endpoint) if self.enabled else None
        processors = _processors(config.span_processors) if self.enabled else []
        # Spans nobody exports are pure cost (exporter "none"): trace nothing then.
        self.enabled = self.enabled and (
            span_exporter is not None or configured is not None or bool(processors)
        )
        if self.enabled:
            self._provider = TracerProvider(
                sampler=ParentBased(TraceIdRatioBased(config.sampling)), resource=resource
            )
            if span_exporter is not None:
                self._provider.add_span_processor(SimpleSpanProcessor(span_exporter))
            if configured is not None:
                self._provider.add_span_processor(BatchSpanProcessor(configured))
            for processor in processors:
                self._provider.add_span_processor(processor)
            self.tracer: trace.Tracer = self._provider.get_tracer("runtime")
        else:
            self.tracer = trace.NoOpTracer()
        readers = (metric_reader, _metric_reader(config.exporter, config.otlp_endpoint))
        readers_present = [r for r in readers if r is not None]
        if readers_present:
            self._meter_provider = MeterProvider(metric_readers=readers_present, resource=resource)
            self.meter: Meter = self._meter_provider.get_meter("runtime")
        else:
            self.meter = NoOpMeter("runtime")

    def traceparent(self) -> str | None:
        """The current trace context as a W3C traceparent, or None when off or outside any.

        Inside a handler whose trace was sampled out (no span was made), the incoming
        traceparent is passed on unchanged so the whole request keeps one decision.
        """
        if not self.enabled:
            return None
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            return format_traceparent(ctx)
        cell = current_cell.get()
        env = None if cell is None else cell.envelope()
        return None if env is None else env.traceparent

    def sampled(self, traceparent: str | None) -> bool:
        """Whether a hop with this incoming traceparent gets a span.

        A sampled-out parent (flags ``00``) or, with sampling 0, a new root costs no span.
        """
        if traceparent is None:
            return self._sample_roots
        return not traceparent.endswith("-00")

    @contextmanager
    def message_span(
        self, actor: str, kind: str, msg: object, traceparent: str | None
    ) -> Iterator[trace.Span]:
        """A span ``{actor} {MessageType}`` around one handler call, parented by the sender.

        The span is current inside the handler, so asks it makes carry the same trace.
        An exception escaping the handler is recorded on the span and re-raised.
        """
        parent_ctx: otel_context.Context | None = None
        if traceparent is not None:
            parent = parse_traceparent(traceparent)
            if parent is not None:
                parent_ctx = trace.set_span_in_context(NonRecordingSpan(parent))
        name = f"{actor} {type(msg).__name__}"
        attributes: dict[str, Any] = {"actor.name": actor, "actor.kind": kind}
        with self.tracer.start_as_current_span(
            name, context=parent_ctx, kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            yield span

    def observe_actors(self, counters: ActorCounters) -> None:
        """Export per-actor counters and mailbox depth as OTel observable instruments."""

        def column(index: int) -> Callable[[CallbackOptions], Iterable[Observation]]:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                return [Observation(row[1][index], row[0]) for row in counters()]

            return observe

        self.meter.create_observable_counter(
            "actor.messages.handled",
            [column(0)],
            unit="{message}",
            description="Messages handled without error, per actor.",
        )
        self.meter.create_observable_counter(
            "actor.messages.failed",
            [column(1)],
            unit="{message}",
            description="Messages whose handler raised, per actor.",
        )
        self.meter.create_observable_counter(
            "actor.restarts",
            [column(2)],
            unit="{restart}",
            description="Restarts applied by the supervisor, per actor.",
        )
        self.meter.create_observable_gauge(
            "actor.mailbox.depth",
            [column(3)],
            unit="{message}",
            description="Messages waiting in the mailbox, per actor.",
        )

    def shutdown(self) -> None:
        """Flush and stop exporters. Blocking (exporters flush synchronously): run in a thread."""
        if self._provider is not None:
            self._provider.shutdown()
        if self._meter_provider is not None:
            self._meter_provider.shutdown()


def _processors(names: list[str]) -> list[SpanProcessor]:
    """The span processors the config names; ``ConfigError`` naming the entry that cannot
    be imported or does not make a ``SpanProcessor``."""
    made: list[SpanProcessor] = []
    for index, name in enumerate(names):
        path = f"$.telemetry.span_processors[{index}]"
        try:
            processor = pkgutil.resolve_name(name)()
        except Exception as exc:  # importing runs the module: any error is a config problem
            raise ConfigError(
                f"{path}: cannot make a span processor from {name!r}: {exc!r}"
            ) from None
        if not isinstance(processor, SpanProcessor):
            raise ConfigError(
                f"{path}: {name!r} made {type(processor).__name__}, not a span processor"
            )
        made.append(processor)
    return made
