"""Ecosystem benchmark: what reaching the agents through other ecosystems' protocols costs,
against the runtime's own API, on one server process (``config/default.toml``, the demo
agent ``echo`` with the offline scripted model).

Each measurement is an async function in ``MEASUREMENTS``: it gets the running server
(``Target``), prints its detail lines and returns the metrics it adds to the summary line.

- ``openai``: the same turn (``please add 2 and 40``: two model calls, one tool call, memory
  on) through ``POST /v1/chat/completions`` and ``POST /api/agents/echo/generate``, in
  interleaved rounds at concurrency 1 and 16; ``openai_vs_native_ratio`` is the OpenAI
  route's turns per second over the native route's at concurrency 16 (1.0: no cost).
- ``mcp``: a tool call through our MCP client's tool actor against the official SDK's
  ``Client`` alone on the same stdio server (``bench._mcp``); ``mcp_overhead_ratio`` is
  ours over the SDK's median latency (target <= 1.3). It runs in this process, beside the
  server, not through it.
- ``traces``: agent turns with every span kept for ``/api/observability`` against tracing
  off (``traces_on_ratio``, target >= 0.8) and against tracing on with nothing kept
  (``storage_vs_tracing_ratio``: what storage costs beyond tracing itself); in this
  process (``bench._traces``).

    python -m bench.ecosystem --quick
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import trio

from bench._common import emit, parse_args, percentile
from bench._load import Connection
from bench._mcp import measure as measure_mcp
from bench._serve import start_runtime, stop_runtime
from bench._traces import measure as measure_traces

PROMPT = "please add 2 and 40"
ANSWER = b"The sum is 42."
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Target:
    """The server under test and how long to measure."""

    url: str
    quick: bool
    seconds: float
    """Seconds of load per case and round."""
    rounds: int
    """Interleaved rounds: each case runs once per round, in alternating order."""


Measurement = Callable[[Target], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    """One way of asking for the turn: a path, a body per worker, headers per worker."""

    name: str
    path: str
    body: Callable[[int], bytes]
    headers: Callable[[int], dict[str, str]]


def _native_body(worker: int) -> bytes:
    memory = {"thread": f"native-{worker}", "resource": "bench"}
    return _encoder.encode({"messages": PROMPT, "memory": memory})


def _openai_body(_: int) -> bytes:
    messages = [{"role": "user", "content": PROMPT}]
    return _encoder.encode({"model": "echo", "messages": messages, "user": "bench"})


NATIVE = Case("native", "/api/agents/echo/generate", _native_body, lambda _: {})
OPENAI = Case(
    "openai",
    "/v1/chat/completions",
    _openai_body,
    lambda worker: {"x-mastra-thread-id": f"openai-{worker}"},
)


async def _drive(target: Target, case: Case, concurrency: int) -> tuple[int, list[float], int]:
    """Run ``case`` from ``concurrency`` keep-alive connections for ``target.seconds``;
    returns the turns done, their latencies and how many failed (not 200 or a wrong answer)."""
    latencies: list[float] = []
    errors = 0

    async def worker(index: int) -> None:
        nonlocal errors
        body, headers = case.body(index), case.headers(index)
        connection = await Connection.open(target.url)
        try:
            end = time.perf_counter() + target.seconds
            while time.perf_counter() < end:
                response, took = await connection.post(case.path, body, headers)
                if response.status != 200 or ANSWER not in response.body:
                    errors += 1
                latencies.append(took)
        finally:
            await connection.aclose()

    async with trio.open_nursery() as nursery:
        for index in range(concurrency):
            nursery.start_soon(worker, index)
    return len(latencies), latencies, errors


async def _compare(target: Target, cases: list[Case], concurrency: int) -> dict[str, Any]:
    """Interleaved rounds of every case at one concurrency; per case: turns per second,
    p50/p99 latency in ms and errors, each emitted as a detail line."""
    done = {c.name: 0 for c in cases}
    latencies: dict[str, list[float]] = {c.name: [] for c in cases}
    errors = {c.name: 0 for c in cases}
    for round_ in range(target.rounds):
        order = cases if round_ % 2 == 0 else cases[::-1]
        for case in order:
            count, took, failed = await _drive(target, case, concurrency)
            done[case.name] += count
            latencies[case.name] += took
            errors[case.name] += failed
    rows: dict[str, Any] = {}
    for case in cases:
        samples = latencies[case.name]
        rows[case.name] = {
            "rps": round(done[case.name] / (target.seconds * target.rounds), 1),
            "p50_ms": round(percentile(samples, 0.5) * 1e3, 2),
            "p99_ms": round(percentile(samples, 0.99) * 1e3, 2),
            "errors": errors[case.name],
        }
        emit({"case": case.name, "concurrency": concurrency, **rows[case.name]})
    return rows


async def openai(target: Target) -> dict[str, Any]:
    """``/v1/chat/completions`` against ``/api/agents/echo/generate`` for the same turn."""
    await _compare(Target(target.url, target.quick, 0.3, 1), [NATIVE, OPENAI], 4)  # warm up
    serial = await _compare(target, [NATIVE, OPENAI], 1)
    loaded = await _compare(target, [NATIVE, OPENAI], 16)
    return {
        "openai_rps_c16": loaded["openai"]["rps"],
        "native_rps_c16": loaded["native"]["rps"],
        "openai_vs_native_ratio": round(loaded["openai"]["rps"] / loaded["native"]["rps"], 3),
        "openai_p50_ms_c1": serial["openai"]["p50_ms"],
        "native_p50_ms_c1": serial["native"]["p50_ms"],
        "openai_errors": sum(r["openai"]["errors"] for r in (serial, loaded)),
        "native_errors": sum(r["native"]["errors"] for r in (serial, loaded)),
    }


async def mcp(target: Target) -> dict[str, Any]:
    """An MCP tool call through our client against the SDK's client alone."""
    metrics = await measure_mcp(target.quick)
    emit({"case": "mcp", **metrics})
    return {"mcp_overhead_ratio": metrics["mcp_overhead_ratio"]}


async def traces(target: Target) -> dict[str, Any]:
    """Agent turns with traces kept against tracing off and against tracing alone."""
    metrics = await measure_traces(target.quick)
    emit({"case": "traces", **metrics})
    return {k: metrics[k] for k in ("traces_on_ratio", "storage_vs_tracing_ratio")}


MEASUREMENTS: dict[str, Measurement] = {"openai": openai, "mcp": mcp, "traces": traces}
"""Every measurement, run in this order; add new ones here."""


async def main(quick: bool) -> None:
    """Start the server, run every measurement against it, print the summary line."""
    summary: dict[str, Any] = {"bench": "ecosystem", "quick": quick}
    with tempfile.TemporaryDirectory() as data:
        proc, url = start_runtime(data)
        try:
            target = Target(url, quick, seconds=1.5 if quick else 5.0, rounds=3 if quick else 5)
            for measure in MEASUREMENTS.values():
                summary.update(await measure(target))
        finally:
            stop_runtime(proc)
    summary["targets"] = {
        "openai_vs_native_ratio": 0.9,
        "mcp_overhead_ratio": 1.3,
        "traces_on_ratio": 0.8,
    }
    emit(summary)


if __name__ == "__main__":
    args = parse_args(__doc__ or "")
    trio.run(main, args.quick)
