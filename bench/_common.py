"""Shared helpers for benchmarks: argument parsing, JSON-lines output, percentiles, RSS."""

from __future__ import annotations

import argparse
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


async def thread_round_trip(count: int, work: Callable[[int], object] | None = None) -> float:
    """Seconds for one hand-off to a waiting thread and back, as the store's writer does it
    (a queue one way, ``run_sync_soon`` the other): what any durable write costs on top of
    SQLite when SQLite may not block the Trio thread. With ``work``, the thread runs
    ``work(i)`` for the ``i``-th hand-off before handing back (an exception stops it)."""
    jobs: queue.SimpleQueue[tuple[int, trio.lowlevel.Task] | None] = queue.SimpleQueue()
    token = trio.lowlevel.current_trio_token()

    def serve() -> None:
        while (job := jobs.get()) is not None:
            index, task = job
            result = outcome.capture(work, index) if work is not None else outcome.Value(None)
            token.run_sync_soon(trio.lowlevel.reschedule, task, result)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        start = time.perf_counter()
        for index in range(count):
            jobs.put((index, trio.lowlevel.current_task()))
            await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.FAILED)
        return (time.perf_counter() - start) / count
    finally:
        jobs.put(None)
        thread.join()
