from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import trio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from runtime import (
    Actor,
    ActorCrashed,
    LoggingConfig,
    RuntimeConfig,
    TelemetryConfig,
    configure_logging,
    open_runtime,
)
from runtime.testing import TestRuntime, open_test_runtime, test_config
from tests.runtime.actors_for_tests import Get, Journal, Recorder


class Relay(Actor):
    """Forwards every message to ``next`` (by name) and returns its answer."""

    def __init__(self, next_name: str) -> None:
        self.next_name = next_name

    async def receive(self, msg: Any) -> Any:
        self.ctx.logger.info("relaying %s", type(msg).__name__)
        target = self.ctx.lookup(self.next_name)
        assert target is not None
        return await target.ask(msg)


def _by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


async def test_one_trace_across_three_actors(t: TestRuntime) -> None:
    await t.rt.spawn(Recorder, Journal(), name="last")
    await t.rt.spawn(Relay, "last", name="middle")
    first = await t.rt.spawn(Relay, "middle", name="first")
    with t.rt.tracing.tracer.start_as_current_span("request") as root:
        await first.ask(Get())
    spans = _by_name(t.spans.finished())
    assert {"first Get", "middle Get", "last Get", "request"} <= spans.keys()
    trace_ids = {s.context.trace_id for s in spans.values() if s.context is not None}
    assert trace_ids == {root.get_span_context().trace_id}
    assert spans["first Get"].parent is not None
    assert spans["first Get"].parent.span_id == root.get_span_context().span_id
    middle, last = spans["middle Get"], spans["last Get"]
    assert middle.parent is not None and last.parent is not None
    assert middle.parent.span_id == spans["first Get"].context.span_id
    assert last.parent.span_id == middle.context.span_id
    assert spans["last Get"].attributes == {"actor.name": "last", "actor.kind": "actor"}


async def test_sampling_zero_records_nothing_but_still_works() -> None:
    config = test_config(telemetry=TelemetryConfig(enabled=True, sampling=0.0))
    async with open_test_runtime(config) as t:
        await t.rt.spawn(Recorder, Journal(), name="last")
        first = await t.rt.spawn(Relay, "last", name="first")
        assert await first.ask(Get()) == []
        assert t.spans.finished() == []


async def test_disabled_tracing_records_nothing() -> None:
    config = test_config(telemetry=TelemetryConfig(enabled=False))
    async with open_test_runtime(config) as t:
        ref = await t.rt.spawn(Recorder, Journal(), name="quiet")
        await ref.ask(Get())
        assert t.spans.finished() == []


async def test_stats_and_metrics_count_handled_failed_restarted(t: TestRuntime) -> None:
    from tests.runtime.actors_for_tests import Boom

    ref = await t.rt.spawn(Recorder, Journal(), name="counted")
    for _ in range(3):
        await ref.ask(Get())
    with pytest.raises(ActorCrashed):
        await ref.ask(Boom())
    await ref.ask(Get())
    stats = t.rt.stats()["counted"]
    assert (stats.handled, stats.failed, stats.restarts) == (4, 1, 1)
    data = t.metrics.get_metrics_data()
    assert data is not None
    values: dict[str, int] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if (point.attributes or {}).get("actor.name") == "counted":
                        values[metric.name] = int(point.value)  # type: ignore[union-attr]
    assert values == {
        "actor.messages.handled": 4,
        "actor.messages.failed": 1,
        "actor.restarts": 1,
        "actor.mailbox.depth": 0,
    }


async def test_log_records_carry_actor_and_trace_id(t: TestRuntime) -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingConfig(format="json", level="INFO"), stream=stream)
    try:
        await t.rt.spawn(Recorder, Journal(), name="last")
        first = await t.rt.spawn(Relay, "last", name="first")
        with t.rt.tracing.tracer.start_as_current_span("request") as root:
            await first.ask(Get())
    finally:
        logging.getLogger().removeHandler(handler)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    relayed = [r for r in records if r["message"] == "relaying Get"]
    assert len(relayed) == 1
    assert relayed[0]["actor"] == "first"
    assert relayed[0]["trace_id"] == f"{root.get_span_context().trace_id:032x}"
    assert relayed[0]["level"] == "INFO"


async def test_human_log_format_names_the_actor(t: TestRuntime) -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingConfig(format="human"), stream=stream)
    try:
        await t.rt.spawn(Recorder, Journal(), name="end")
        first = await t.rt.spawn(Relay, "end", name="start")
        await first.ask(Get())
    finally:
        logging.getLogger().removeHandler(handler)
    assert "[start " in stream.getvalue()
    await trio.lowlevel.checkpoint()


class SpanProbe(Actor):
    """Replies whether its handler runs inside a recording span."""

    async def receive(self, msg: Any) -> bool:
        return bool(trace.get_current_span().is_recording())


async def test_no_spans_are_made_when_nothing_exports_them() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    telemetry = TelemetryConfig(enabled=True, sampling=1.0, exporter="none")
    async with open_runtime(RuntimeConfig(telemetry=telemetry)) as rt:
        ref = await rt.spawn(SpanProbe, name="probe")
        assert await ref.ask("traced?") is False
    exporter = InMemorySpanExporter()
    async with open_runtime(RuntimeConfig(telemetry=telemetry), span_exporter=exporter) as rt:
        ref = await rt.spawn(SpanProbe, name="probe")
        assert await ref.ask("traced?") is True
    assert [s.name for s in exporter.get_finished_spans()] == ["probe str"]
