"""This runtime against a real Mastra v1 server, same routes, same bodies, same machine.

``python -m bench.vs_mastra [--quick]`` sets up the Mastra peer if needed (``bench._peer``:
Node 22 and the locked ``@mastra/*`` packages, cached outside the repository), then starts
each server in turn with a fresh data directory, pinned to CPU 0, and loads it from this
process pinned to CPU 1 with closed-loop keep-alive connections (``bench._load``). Phases,
each after the same warm-up:

- ``generate`` at concurrency 1, 16 and 64: ``POST /api/agents/echo/generate`` with
  ``{"messages": "hello from the load test"}`` (the demo agent with its memory);
- ``generate-memory`` at 16: the same with every turn in one thread
  (``memory: {thread, resource}``), so each turn reads and appends that thread's history;
- ``workflow-start-async`` at 16 and 64: ``POST /api/workflows/three-step/start-async``
  with ``{"inputData": {"value": 5}}``, answered once the three steps ran.

A response counts only when it is a 200 holding the expected text. Each phase prints req/s,
p50/p99 and RSS for both servers; the summary has, per phase, ours / Mastra for req/s and
p99 and the peak RSS ratio, and whether the targets hold. It also measures a plain Python
HTTP stack on this machine, a bare hypercorn + starlette endpoint (``bench._bare_server``)
at concurrency 16, and gives ours over it for generate and the workflow.

The workflow's own ceiling, on the same CPU: the same endpoint as a plain ASGI callable
on the runtime's own HTTP server (that server alone; ``raw_http_per_cpu_s_c16``, requests
per second of its CPU time) and durable ``three-step`` runs with no HTTP at all (``bench._runs``;
``runs_per_cpu_s_no_http``, runs per second of CPU time). A server that spent nothing
beyond those two would answer ``workflow_ceiling_rps_c16 = 1 / (1/raw + 1/runs)``; the
summary gives that over Mastra's rate (``workflow_ceiling_vs_mastra_c16``: the most any
framework on this HTTP server with these runs could reach) and ours over it
(``workflow_vs_ceiling_c16``). ``workflow_ceiling_p99_ratio_c16`` and ``_c64`` bound the p99
targets the same way: the p99 ratio of a server at that ceiling's rate with no spread at
all (its clients' mean wait, ``clients / rate``, over Mastra's p99 in the run); above 0.2,
that run's p99 target is out of any such server's reach.
Without npm or the npm registry the summary says ``skipped`` and why, and the exit code
is 0.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import trio

from bench._common import emit, parse_args, percentile, process_cpu
from bench._load import Connection
from bench._peer import (
    PeerUnavailable,
    Server,
    peak_rss,
    prepare_peer,
    run_rate,
    start_bare,
    start_ours,
    start_peer,
)

GENERATE = "/api/agents/echo/generate"
WORKFLOW = "/api/workflows/three-step/start-async"
GEN_BODY = b'{"messages":"hello from the load test"}'
MEM_BODY = (
    b'{"messages":"hello from the load test",'
    b'"memory":{"thread":"load-thread","resource":"load-user"}}'
)
WF_BODY = b'{"inputData":{"value":5}}'
GEN_EXPECT = b'"text":"'
WF_EXPECT = b'"status":"success"'


class Phase(NamedTuple):
    """One load phase: its label, concurrency, route, body and the text a good answer has."""

    label: str
    c: int
    path: str
    body: bytes
    expect: bytes


PHASES = (
    Phase("generate", 1, GENERATE, GEN_BODY, GEN_EXPECT),
    Phase("generate", 16, GENERATE, GEN_BODY, GEN_EXPECT),
    Phase("generate", 64, GENERATE, GEN_BODY, GEN_EXPECT),
    Phase("generate-memory", 16, GENERATE, MEM_BODY, GEN_EXPECT),
    Phase("workflow-start-async", 16, WORKFLOW, WF_BODY, WF_EXPECT),
    Phase("workflow-start-async", 64, WORKFLOW, WF_BODY, WF_EXPECT),
)
SERVER_CPU, CLIENT_CPU = 0, 1
# ours / Mastra: at least this many times the req/s, at most this share of p99 and peak RSS
TARGETS = {"generate_rps": 5.0, "workflow_rps": 3.0, "p99": 0.2, "peak_rss": 1 / 3}


async def drive(url: str, phase: Phase, seconds: float) -> dict[str, Any]:
    """Closed-loop load: ``phase.c`` connections, each sending ``phase.body`` as soon as the
    previous answer arrived, for ``seconds``; req/s counts the good answers only."""
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None

    async def worker() -> None:
        nonlocal errors, first_error
        connection = await Connection.open(url)
        try:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                response, took = await connection.post(phase.path, phase.body)
                if response.status == 200 and phase.expect in response.body:
                    latencies.append(took)
                    continue
                errors += 1
                if first_error is None:
                    first_error = f"{response.status}: {response.body[:200]!r}"
        finally:
            await connection.aclose()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(phase.c):
            nursery.start_soon(worker)
    elapsed = time.perf_counter() - start
    return {
        "req_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 2),
        "errors": errors,
        "first_error": first_error,
    }


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def measure(server: Server, seconds: float) -> dict[str, Any]:
    """Warm up, run every phase, and return the rows and the server's peak RSS."""
    emit({"server": server.name, "phase": "idle", "rss_mb": round(_rss_mb(server.proc.pid), 1)})
    warm = min(seconds, 1.0)
    await drive(server.url, Phase("warm-up", 4, GENERATE, GEN_BODY, GEN_EXPECT), warm)
    await drive(server.url, Phase("warm-up", 4, WORKFLOW, WF_BODY, WF_EXPECT), warm)
    rows: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        row = await drive(server.url, phase, seconds)
        row["rss_mb"] = round(_rss_mb(server.proc.pid), 1)
        rows[f"{phase.label}_c{phase.c}"] = row
        emit({"server": server.name, "phase": phase.label, "concurrency": phase.c, **row})
    return {"rows": rows, "peak_rss_mb": round(peak_rss(server.proc.pid) / 2**20, 1)}


async def run_server(start: Callable[[Path, int | None], Server], seconds: float) -> dict[str, Any]:
    """Start a server with a fresh data directory, measure it, stop it."""
    pin = SERVER_CPU if _two_cpus() else None
    with tempfile.TemporaryDirectory(prefix="bench-vs-mastra-") as tmp:
        server = await trio.to_thread.run_sync(start, Path(tmp), pin)
        try:
            return await measure(server, seconds)
        finally:
            await trio.to_thread.run_sync(server.stop)


def _two_cpus() -> bool:
    return (os.cpu_count() or 1) >= 2


def summarize(ours: dict[str, Any], peer: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Per phase ours / Mastra for req/s and p99; peak RSS; which targets hold."""
    out: dict[str, Any] = {"bench": "vs_mastra", "quick": quick}
    met = True
    for key, mine in ours["rows"].items():
        theirs = peer["rows"][key]
        rps = mine["req_s"] / theirs["req_s"] if theirs["req_s"] else None
        p99 = mine["p99_ms"] / theirs["p99_ms"] if theirs["p99_ms"] else None
        out[f"{key}_rps_ratio"] = None if rps is None else round(rps, 2)
        out[f"{key}_p99_ratio"] = None if p99 is None else round(p99, 3)
        floor = TARGETS["workflow_rps" if key.startswith("workflow") else "generate_rps"]
        met &= rps is not None and rps >= floor and p99 is not None and p99 <= TARGETS["p99"]
    rss = ours["peak_rss_mb"] / peer["peak_rss_mb"] if peer["peak_rss_mb"] else None
    out["peak_rss_ratio"] = None if rss is None else round(rss, 3)
    out["peak_rss_mb"] = ours["peak_rss_mb"]
    out["mastra_peak_rss_mb"] = peer["peak_rss_mb"]
    out["errors"] = sum(r["errors"] for r in ours["rows"].values())
    out["mastra_errors"] = sum(r["errors"] for r in peer["rows"].values())
    out["targets_met"] = met and rss is not None and rss <= TARGETS["peak_rss"]
    return out


async def main(quick: bool) -> None:
    seconds = 1.5 if quick else 10.0
    try:
        peer_dir = await trio.to_thread.run_sync(prepare_peer)
    except PeerUnavailable as exc:
        sys.stderr.write(f"vs_mastra: skipped: {exc}\n")
        emit({"bench": "vs_mastra", "quick": quick, "skipped": str(exc)})
        return
    if _two_cpus():
        os.sched_setaffinity(0, {CLIENT_CPU})
    peer = await run_server(lambda data, cpu: start_peer(peer_dir, data, cpu), seconds)
    ours = await run_server(start_ours, seconds)
    summary = summarize(ours, peer, quick)
    summary.update(await bare_ceiling(ours, peer, seconds))
    emit(summary)


async def _bare_rps(seconds: float, *, raw: bool) -> dict[str, Any]:
    """The generate route of a bare endpoint at concurrency 16, pinned like the others."""
    pin = SERVER_CPU if _two_cpus() else None
    with tempfile.TemporaryDirectory(prefix="bench-vs-mastra-") as tmp:
        start = functools.partial(start_bare, raw=raw)
        bare = await trio.to_thread.run_sync(start, Path(tmp), pin)
        try:
            await drive(bare.url, Phase("warm-up", 4, GENERATE, GEN_BODY, b"Echo"), 1.0)
            used = process_cpu(bare.proc.pid)[1]
            row = await drive(bare.url, Phase("bare", 16, GENERATE, GEN_BODY, b"Echo"), seconds)
            used = process_cpu(bare.proc.pid)[1] - used
        finally:
            await trio.to_thread.run_sync(bare.stop)
    row["req_per_cpu_s"] = round(row["req_s"] * seconds / used, 1) if used > 0 else 0.0
    emit({"server": bare.name, "phase": "bare", "concurrency": 16, **row})
    return row


async def bare_ceiling(
    ours: dict[str, Any], peer: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """The HTTP ceilings on this machine and the workflow's own (see the module docstring);
    ours over them."""
    bare = (await _bare_rps(seconds, raw=False))["req_s"]
    raw = (await _bare_rps(seconds, raw=True))["req_per_cpu_s"]
    pin = SERVER_CPU if _two_cpus() else None
    with tempfile.TemporaryDirectory(prefix="bench-vs-mastra-") as tmp:
        runs = await trio.to_thread.run_sync(run_rate, Path(tmp), pin, max(seconds, 2.0))
    emit({"server": "runs without HTTP", "phase": "runs", "runs_per_cpu_s": runs})
    ceiling = 1 / (1 / raw + 1 / runs) if raw and runs else 0.0
    key = "workflow-start-async_c16"
    mine, theirs = ours["rows"][key]["req_s"], peer["rows"][key]["req_s"]
    least_p99 = {
        f"workflow_ceiling_p99_ratio_c{clients}": _least_p99_ratio(
            clients, ceiling, peer["rows"][f"workflow-start-async_c{clients}"]["p99_ms"]
        )
        for clients in (16, 64)
    }
    return least_p99 | {
        "bare_http_rps_c16": bare,
        "generate_vs_bare_http_c16": round(ours["rows"]["generate_c16"]["req_s"] / bare, 3),
        "workflow_vs_bare_http_c16": round(mine / bare, 3),
        "raw_http_per_cpu_s_c16": raw,
        "runs_per_cpu_s_no_http": runs,
        "workflow_ceiling_rps_c16": round(ceiling, 1),
        "workflow_ceiling_vs_mastra_c16": round(ceiling / theirs, 2) if theirs else None,
        "workflow_vs_ceiling_c16": round(mine / ceiling, 3) if ceiling else None,
    }


def _least_p99_ratio(clients: int, ceiling: float, their_p99_ms: float) -> float | None:
    """The p99 ratio of a server at the ceiling's rate with no spread at all: each of
    ``clients`` closed-loop clients waits ``clients / rate`` per request, over Mastra's p99."""
    if not ceiling or not their_p99_ms:
        return None
    return round(clients / ceiling * 1000 / their_p99_ms, 3)


def cli(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``--quick`` and run."""
    args = parse_args(__doc__ or "vs_mastra benchmark", argv)
    trio.run(main, bool(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
