"""Helpers for testing actors: an in-memory traced runtime and a probe that records messages.

```python
async with open_test_runtime() as t:
    probe, seen = await spawn_probe(t.rt, "probe")
    await my_actor.ask(Forward(to=probe))
    await seen.wait_for(1)
    assert t.spans.names() == [...]
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec
import trio
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime._actor import Actor
from runtime._config import RuntimeConfig, SupervisionConfig, TelemetryConfig
from runtime._ref import ActorRef
from runtime._root import Mastra, open_runtime

__all__ = ["Probe", "ProbeLog", "SpanRecorder", "TestRuntime", "open_test_runtime", "spawn_probe"]


class SpanRecorder:
    """Collects finished spans in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()

    def finished(self) -> list[ReadableSpan]:
        """Every span finished so far, in finishing order."""
        return list(self.exporter.get_finished_spans())

    def names(self) -> list[str]:
        """The names of the finished spans, in finishing order."""
        return [span.name for span in self.finished()]

    def clear(self) -> None:
        """Forget the spans recorded so far."""
        self.exporter.clear()


@dataclass
class TestRuntime:
    """A running runtime plus the spans and metrics it recorded."""

    __test__ = False  # not a pytest test class

    rt: Mastra
    spans: SpanRecorder
    metrics: InMemoryMetricReader


def test_config(**overrides: Any) -> RuntimeConfig:
    """A config for tests: tracing on and fully sampled, short grace, no restart backoff."""
    base = RuntimeConfig(telemetry=TelemetryConfig(enabled=True, sampling=1.0))
    supervision = SupervisionConfig(grace=1.0, backoff_base=0.0)
    config = msgspec.structs.replace(
        base, runtime=msgspec.structs.replace(base.runtime, supervision=supervision)
    )
    return msgspec.structs.replace(config, **overrides)


test_config.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def open_test_runtime(config: RuntimeConfig | None = None) -> AsyncIterator[TestRuntime]:
    """``open_runtime`` with in-memory span and metric collection (see ``test_config``)."""
    spans = SpanRecorder()
    metrics = InMemoryMetricReader()
    async with open_runtime(
        config or test_config(), span_exporter=spans.exporter, metric_reader=metrics
    ) as rt:
        yield TestRuntime(rt=rt, spans=spans, metrics=metrics)


@dataclass
class ProbeLog:
    """What a probe received, shared across the probe's restarts."""

    messages: list[Any] = field(default_factory=list)
    senders: list[ActorRef | None] = field(default_factory=list)
    _changed: trio.Event = field(default_factory=trio.Event)

    def record(self, msg: Any, sender: ActorRef | None) -> None:
        """Append one message and wake waiters."""
        self.messages.append(msg)
        self.senders.append(sender)
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, count: int) -> list[Any]:
        """Wait until at least ``count`` messages arrived; the caller owns the timeout."""
        while len(self.messages) < count:
            await self._changed.wait()
        return self.messages


class Probe(Actor):
    """An actor that records every message it receives and answers with ``reply(msg)``."""

    def __init__(self, log: ProbeLog, reply: Callable[[Any], Any] | None = None) -> None:
        self.log = log
        self.reply = reply

    async def receive(self, msg: Any) -> Any:
        self.log.record(msg, self.ctx.sender)
        return None if self.reply is None else self.reply(msg)


async def spawn_probe(
    rt: Mastra, name: str, reply: Callable[[Any], Any] | None = None, **options: Any
) -> tuple[ActorRef, ProbeLog]:
    """Spawn a ``Probe`` called ``name``; returns its ref and its log."""
    log = ProbeLog()
    ref = await rt.spawn(Probe, log, reply, name=name, **options)
    return ref, log
