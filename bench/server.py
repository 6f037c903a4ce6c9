"""HTTP benchmark: ``POST /api/agents/echo/generate`` (one tool call, memory on) against a
bare hypercorn + starlette JSON endpoint, each server in its own process, driven from this
process over loopback at concurrency 1, 16 and 64.

The agent runs the offline scripted model, so this measures the runtime and the server,
not a vendor. The load generator is a minimal keep-alive HTTP/1.1 client on raw Trio
sockets (``bench._load``): a general client costs more per request than the servers do.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import trio

from bench._common import emit, parse_args, percentile
from bench._load import Connection
from bench._serve import ROOT, start_runtime

PATH = "/api/agents/echo/generate"
_encoder = msgspec.json.Encoder()


def _start_bare() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._bare_server"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def _drive(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def worker(w: int) -> None:
        nonlocal errors
        body = {
            "messages": "please add 2 and 40",
            "memory": {"thread": f"bench-{w}", "resource": "bench"},
        }
        payload = _encoder.encode(body)
        connection = await Connection.open(url)
        try:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                response, took = await connection.post(PATH, payload)
                if response.status != 200:
                    errors += 1
                latencies.append(took)
        finally:
            await connection.aclose()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for w in range(concurrency):
            nursery.start_soon(worker, w)
    elapsed = time.perf_counter() - start
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 2),
        "errors": errors,
    }


async def main(quick: bool) -> None:
    seconds = 3.0 if quick else 15.0
    results: dict[str, dict[int, dict[str, Any]]] = {"generate": {}, "bare": {}}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as data:
        for name in ("generate", "bare"):
            proc, url = start_runtime(data) if name == "generate" else _start_bare()
            try:
                await _drive(url, 4, 0.5)  # warm up connections and caches
                for concurrency in (1, 16, 64):
                    row = await _drive(url, concurrency, seconds)
                    results[name][concurrency] = row
                    emit({"case": name, "concurrency": concurrency, **row})
                peaks[name] = _peak_rss(proc.pid)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    generate, bare = results["generate"], results["bare"]
    emit(
        {
            "bench": "server",
            "quick": quick,
            "generate_rps_c16": generate[16]["rps"],
            "bare_rps_c16": bare[16]["rps"],
            "generate_vs_bare_ratio": round(generate[16]["rps"] / bare[16]["rps"], 3),
            "p99_ms_c64": generate[64]["p99_ms"],
            "peak_rss_mb": round(peaks["generate"] / 2**20, 1),
            "errors": sum(r["errors"] for r in generate.values()),
        }
    )


if __name__ == "__main__":
    args = parse_args(__doc__ or "")
    trio.run(main, args.quick)
