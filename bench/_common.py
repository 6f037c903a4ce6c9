"""Shared helpers for benchmarks: argument parsing, JSON-lines output, percentiles, RSS."""

from __future__ import annotations

import argparse
import functools
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import outcome
import trio
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = [
    "DiscardSpans",
    "HandOff",
    "emit",
    "parse_args",
    "percentile",
    "process_cpu",
    "rss_bytes",
    "thread_round_trip",
]

_encoder = msgspec.json.Encoder()


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``--quick`` (under 30 s on 2 cores) or the full run."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, under 30 s")
    return parser.parse_args(argv)


def emit(record: dict[str, Any]) -> None:
    """Print one JSON object on its own line and flush."""
    sys.stdout.write(_encoder.encode(record).decode() + "\n")
    sys.stdout.flush()


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` by nearest rank; 0.0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    import resource

    return pages * resource.getpagesize()


def process_cpu(pid: int) -> tuple[int, float]:
    """Process ``pid``'s parent and the CPU seconds it used so far (user + system, all its
    threads), from ``/proc``; ``OSError`` once it is gone."""
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DiscardSpans(SpanExporter):
    """An exporter that drops every span: traced benchmarks pay for making spans, not for
    shipping them (the runtime makes no spans at all when nothing exports them)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop ``spans``."""
        return SpanExportResult.SUCCESS


class HandOff:
    """A thread that runs one job at a time for the Trio thread, handed over as the store's
    writer does it (a queue one way, ``run_sync_soon`` the other). Use it as an ``async
    with`` block; ``run(work)`` returns ``work()``'s result or raises its exception."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], object], trio.lowlevel.Task] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._token: trio.lowlevel.TrioToken | None = None

    async def __aenter__(self) -> HandOff:
        self._token = trio.lowlevel.current_trio_token()
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._jobs.put(None)
        await trio.to_thread.run_sync(self._thread.join)

    def _serve(self) -> None:
        token = self._token
        assert token is not None
        while (job := self._jobs.get()) is not None:
            work, task = job
            token.run_sync_soon(trio.lowlevel.reschedule, task, outcome.capture(work))

    async def run(self, work: Callable[[], object]) -> object:
        """Run ``work`` on the thread and return its result (not cancellable)."""
        self._jobs.put((work, trio.lowlevel.current_task()))
        return await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.FAILED)


def _nothing() -> None:
    return None


async def thread_round_trip(count: int, work: Callable[[int], object] | None = None) -> float:
    """Seconds for one hand-off to a waiting thread and back, as the store's writer does it
    (a queue one way, ``run_sync_soon`` the other): what any durable write costs on top of
    SQLite when SQLite may not block the Trio thread. With ``work``, the thread runs
    ``work(i)`` for the ``i``-th hand-off before handing back (an exception stops it)."""
    async with HandOff() as thread:
        start = time.perf_counter()
        for index in range(count):
            await thread.run(_nothing if work is None else functools.partial(work, index))
        return (time.perf_counter() - start) / count
