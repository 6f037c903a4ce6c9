"""Scale-out benchmark: the same HTTP load against one and two ``serve`` worker processes on
Postgres, and against one process on SQLite (the baseline), in the same run.

Two loads, each at concurrency 16 over keep-alive connections (spread over the workers by
the kernel, SO_REUSEPORT): ``POST /api/agents/echo/generate`` with memory (a turn reads its
thread and appends two messages) and ``POST /api/workflows/three-step/start-async`` (three
durable steps, the reply after the run finished). After each load the stored messages and
runs are counted against the 200 answers: ``lost`` is what was acknowledged and is missing.

Postgres comes from ``DATABASE_URL`` when set (a fresh database is created in it), else a
throwaway cluster is started from the ``pgserver`` wheel (a dev dependency). The summary
gives ``workers2_vs_1_ratio`` (two workers over one, on Postgres) and
``pg_vs_sqlite_ratio`` (one worker on Postgres over one process on SQLite), as the mean of
the two loads' ratios.

``bare_workers2_vs_1_ratio``: the same generate load against one and two processes of a
bare hypercorn + starlette endpoint sharing a port (``bench._bare_server``): what a second
process can add on this machine at all, with the load generator on the same cores (the
ceiling of ``workers2_vs_1_ratio``, which has Postgres to share them with besides).

``cpu_ceiling_workers2_vs_1``: what two workers could reach at most on this machine, from
the CPU time of every process during each load: two workers each as efficient per request
as one, sharing what Postgres and the load generator leave of the machine's cores (capped
at 2). ``workers2_vs_cpu_ceiling`` is the workers' ratio over it.

``takeover_s``: two single-process nodes on Postgres; node ``a`` drives a run of the
two-step ``relay`` workflow (``tests/e2e/lease_app.py``, ``lease_for`` 1.5 s), whose second
step never ends there, and is killed with SIGKILL; ``takeover_s`` is the time from the kill
until node ``b`` reports the run ``success``, less ``lease_for``: how long after the lease
ran out (at the latest) the run went on elsewhere (target <= 5 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import trio

from bench._common import emit, parse_args, percentile, process_cpu
from bench._load import Connection
from tests.e2e.pg_configs import DEMO_AGENT, PG_STORE, PG_VECTORS, QUIET, SERVER

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 16
LOG_INFO = """
[logging]
level = "INFO"
"""
_encoder = msgspec.json.Encoder()

PG_CONFIG = QUIET + LOG_INFO + PG_STORE + PG_VECTORS

APP_CONFIG = (
    """
[[actors]]
name = "hash"
kind = "provider"
factory = "actors.llm:configured_provider"
options = { type = "hash", dimension = 32 }
"""
    + DEMO_AGENT
    + """
[[actors]]
name = "three-step"
kind = "workflow"
factory = "actors.demo.workflows:three_step_app"
"""
    + SERVER
)

SQLITE_CONFIG = (
    QUIET
    + LOG_INFO
    + """
[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:SqliteStore"
options = { path = "${MASTRA_DATA}/mastra.db", synchronous = "normal" }

[[actors]]
name = "default"
kind = "store"
factory = "actors.stores:VectorStore"
options = { path = "${MASTRA_DATA}/vectors.db", synchronous = "normal" }
"""
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _database() -> Iterator[str]:
    """A URL of a fresh database: in ``DATABASE_URL``'s server, or a throwaway cluster."""
    import psycopg

    given = os.environ.get("DATABASE_URL")
    if given:
        name = f"scaleout_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(given, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield psycopg.conninfo.make_conninfo(given, dbname=name)
        return
    sys.path.insert(0, str(ROOT))
    from tests.pgcluster import open_cluster

    with open_cluster() as cluster:
        yield cluster.create_database()


@contextlib.contextmanager
def _serve(
    config: str, workers: int, env: dict[str, str], directory: Path
) -> Iterator[tuple[str, int]]:
    """Run ``serve`` with ``workers`` processes; yields its base URL and process id once
    every one listens."""
    path = directory / f"config-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(config)
    port = _free_port()
    log = directory / f"{path.stem}.log"
    command = [sys.executable, "-m", "runtime", "serve", str(path), "--workers", str(workers)]
    environ = {**os.environ, **env, "MASTRA_PORT": str(port), "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=environ, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while log.read_bytes().count(b"serving HTTP on") < workers:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _cpu_times() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds so far."""
    times: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):  # it ended meanwhile
                times[int(entry)] = process_cpu(int(entry))
    return times


def _cpu_split(
    before: dict[int, tuple[int, float]], after: dict[int, tuple[int, float]], root: int
) -> tuple[float, float]:
    """CPU seconds between two readings: of ``root`` and its descendants, of the rest."""
    tree, others = 0.0, 0.0
    for pid, (parent, seconds) in after.items():
        used = seconds - before.get(pid, (parent, 0.0))[1]
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in after:
            ancestor = after[ancestor][0]
        if ancestor == root:
            tree += used
        else:
            others += used
    return tree, others


async def _drive(url: str, seconds: float, load: str, tag: str) -> dict[str, Any]:
    """``load`` (generate or workflow) at ``CONCURRENCY`` for ``seconds``; rps, p50, p99
    and the acknowledged count (200 answers)."""
    latencies: list[float] = []
    errors = 0

    async def worker(w: int) -> None:
        nonlocal errors
        connection = await Connection.open(url)
        try:
            end = time.perf_counter() + seconds
            i = 0
            while time.perf_counter() < end:
                i += 1
                if load == "generate":
                    path = "/api/agents/echo/generate"
                    memory = {"thread": f"{tag}-{w}", "resource": tag}
                    body: dict[str, Any] = {"messages": f"hello {i}", "memory": memory}
                else:
                    path = f"/api/workflows/three-step/start-async?runId={tag}-{w}-{i}"
                    body = {"inputData": {"value": i}}
                response, took = await connection.post(path, _encoder.encode(body))
                if response.status == 200:
                    latencies.append(took)
                else:
                    errors += 1
        finally:
            await connection.aclose()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for w in range(CONCURRENCY):
            nursery.start_soon(worker, w)
    elapsed = time.perf_counter() - start
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 2),
        "acknowledged": len(latencies),
        "errors": errors,
    }


async def _stored(url: str, load: str, tag: str) -> int:
    """What the store holds of a load: messages of its threads, or its successful runs."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        if load == "workflow":
            page = await client.get("/api/workflows/three-step/runs?status=success&perPage=1")
            return int(page.json()["total"])
        total = 0
        for w in range(CONCURRENCY):
            reply = await client.get(f"/api/memory/threads/{tag}-{w}/messages?agentId=echo")
            if reply.status_code == 200:
                total += int(reply.json()["total"])
        return total


async def _case(name: str, url: str, pid: int, seconds: float) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    await _drive(url, 0.5, "generate", f"{name}-warm")  # connections, imports, caches
    for load in ("generate", "workflow"):
        tag = f"{name}-{load}"
        before, start = _cpu_times(), time.monotonic()
        row = await _drive(url, seconds, load, tag)
        elapsed = time.monotonic() - start
        server, others = _cpu_split(before, _cpu_times(), pid)
        row["server_cores"] = round(server / elapsed, 3)
        row["other_cores"] = round(others / elapsed, 3)
        stored = await _stored(url, load, tag)
        expected = row["acknowledged"] * (2 if load == "generate" else 1)
        row["lost"] = max(0, expected - stored)
        rows[load] = row
        emit({"case": name, "load": load, "concurrency": CONCURRENCY, **row})
    return rows


def _cpu_ceiling(one: dict[str, dict[str, Any]], two: dict[str, dict[str, Any]]) -> float:
    """The most two workers could serve over one (see the module docstring), averaged
    over the loads."""
    cores = os.cpu_count() or 1
    ceilings = []
    for load, row in one.items():
        per_request = row["server_cores"] / row["rps"] if row["rps"] else 0.0
        left = cores - two[load]["other_cores"]
        if per_request > 0:
            ceilings.append(min(2.0, left / per_request / row["rps"]))
    return round(sum(ceilings) / len(ceilings), 3) if ceilings else 0.0


def _ratio(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> float:
    ratios = [a[load]["rps"] / b[load]["rps"] for load in a if b[load]["rps"]]
    return round(sum(ratios) / len(ratios), 3) if ratios else 0.0


TAKEOVER_CONFIG = (
    QUIET
    + PG_STORE
    + """
[[actors]]
name = "relay"
kind = "workflow"
factory = "tests.e2e.lease_app:relay_app"
"""
    + SERVER
)
LEASE_FOR = 1.5  # relay_app's


@contextlib.contextmanager
def _node(env: dict[str, str], directory: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """One single-process ``serve`` of the take-over config; yields it and its URL."""
    path = directory / "takeover.toml"
    path.write_text(TAKEOVER_CONFIG)
    port = _free_port()
    log = directory / f"takeover-{env['NODE']}.log"
    environ = {**os.environ, **env, "MASTRA_PORT": str(port), "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtime", "serve", str(path)], cwd=ROOT, env=environ, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while b"serving HTTP on" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


async def _takeover(url: str, directory: Path) -> float:
    """Seconds from a node's SIGKILL to its run's success on the other node, less the
    lease (see the module docstring)."""
    executed = directory / "exec.log"
    env = {"DATABASE_URL": url, "EXEC_LOG": str(executed)}
    with (
        _node(env | {"NODE": "a"}, directory) as (a, url_a),
        _node(env | {"NODE": "b"}, directory) as (_, url_b),
    ):
        async with httpx.AsyncClient(timeout=30) as client:
            started = await client.post(
                f"{url_a}/api/workflows/relay/start?runId=takeover", json={"inputData": {"n": 1}}
            )
            started.raise_for_status()
            with trio.fail_after(60):
                while True:  # node a is in the second step once it logged it
                    if executed.exists() and "second a" in executed.read_text():
                        break
                    await trio.sleep(0.02)
            a.kill()
            killed = time.monotonic()
            with trio.fail_after(120):
                while True:
                    run = await client.get(f"{url_b}/api/workflows/relay/runs/takeover")
                    if run.status_code == 200 and run.json()["status"] == "success":
                        break
                    await trio.sleep(0.02)
            return round(time.monotonic() - killed - LEASE_FOR, 3)


@contextlib.contextmanager
def _bare(processes: int, directory: Path) -> Iterator[str]:
    """``processes`` bare endpoints sharing one port; yields its URL once all listen."""
    port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for k in range(processes):
            out = (directory / f"bare-{port}-{k}.log").open("wb")
            command = [sys.executable, "-m", "bench._bare_server", str(port)]
            procs.append(subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=out))
        deadline = time.monotonic() + 30
        logs = [directory / f"bare-{port}-{k}.log" for k in range(processes)]
        while not all(b"http://" in log.read_bytes() for log in logs):
            if time.monotonic() > deadline:
                raise RuntimeError("the bare endpoints did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


async def _bare_ratio(seconds: float, directory: Path) -> float:
    """Requests per second of two bare endpoint processes over one (see the docstring)."""
    rates = []
    for processes in (1, 2):
        with _bare(processes, directory) as url:
            row = await _drive(url, seconds, "generate", f"bare{processes}")
            rates.append(row["rps"])
    return round(rates[1] / rates[0], 3) if rates[0] else 0.0


async def main(quick: bool) -> None:
    seconds = 2.5 if quick else 10.0
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with _database() as url:
            for name, workers in (("pg_workers1", 1), ("pg_workers2", 2)):
                env = {"DATABASE_URL": url}
                with _serve(PG_CONFIG + APP_CONFIG, workers, env, directory) as (base, pid):
                    results[name] = await _case(name, base, pid, seconds)
            takeover = await _takeover(url, directory)
            bare = await _bare_ratio(seconds, directory)
        env = {"MASTRA_DATA": str(directory / "sqlite")}
        with _serve(SQLITE_CONFIG + APP_CONFIG, 1, env, directory) as (base, pid):
            results["sqlite"] = await _case("sqlite", base, pid, seconds)
    scaled = _ratio(results["pg_workers2"], results["pg_workers1"])
    ceiling = _cpu_ceiling(results["pg_workers1"], results["pg_workers2"])
    emit(
        {
            "bench": "scaleout",
            "quick": quick,
            "concurrency": CONCURRENCY,
            "pg_workers1_generate_rps": results["pg_workers1"]["generate"]["rps"],
            "pg_workers2_generate_rps": results["pg_workers2"]["generate"]["rps"],
            "sqlite_generate_rps": results["sqlite"]["generate"]["rps"],
            "pg_workers1_workflow_rps": results["pg_workers1"]["workflow"]["rps"],
            "pg_workers2_workflow_rps": results["pg_workers2"]["workflow"]["rps"],
            "sqlite_workflow_rps": results["sqlite"]["workflow"]["rps"],
            "workers2_vs_1_ratio": scaled,
            "bare_workers2_vs_1_ratio": bare,
            "cpu_ceiling_workers2_vs_1": ceiling,
            "workers2_vs_cpu_ceiling": round(scaled / ceiling, 3) if ceiling else 0.0,
            "pg_vs_sqlite_ratio": _ratio(results["pg_workers1"], results["sqlite"]),
            "takeover_s": takeover,
            "lost": sum(row["lost"] for case in results.values() for row in case.values()),
            "errors": sum(row["errors"] for case in results.values() for row in case.values()),
        }
    )


if __name__ == "__main__":
    args = parse_args(__doc__ or "")
    trio.run(main, args.quick)
