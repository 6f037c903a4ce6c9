"""``serve CONFIG --workers N``: N real processes on one port sharing one Postgres."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import trio

from tests.e2e.pg_configs import DEMO_AGENT, PG_STORE, PG_VECTORS, QUIET, SERVER
from tests.e2e.serve import ROOT, STORES_TOML
from tests.pgcluster import Cluster

APP_TOML = (
    QUIET
    + PG_STORE
    + PG_VECTORS
    + DEMO_AGENT
    + """
[[actors]]
name = "hash"
kind = "provider"
factory = "actors.llm:configured_provider"
options = { type = "hash", dimension = 32 }
"""
    + SERVER
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listeners(port: int) -> set[int]:
    """The pids of processes holding a listening TCP socket on ``port`` (from /proc)."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    pids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue
        if any(link[8:-1] in inodes for link in links if link.startswith("socket:[")):
            pids.add(int(proc.name))
    return pids


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if proc.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(proc.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def test_workers_are_refused_with_sqlite(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(STORES_TOML.format(data=tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "serve", str(config), "--workers", "2"],
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--workers 2: actor 'store' (actors.stores:SqliteStore) cannot be shared" in done.stderr
    assert "PostgresStore" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


@asynccontextmanager
async def _open_workers(
    tmp_path: Path, cluster: Cluster, port: int
) -> AsyncIterator[tuple[trio.Process, bytearray]]:
    """``serve --workers 2`` on Postgres, yielded once both workers listen; killed on exit
    if still running."""
    config = tmp_path / "config.toml"
    config.write_text(APP_TOML)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTRA_")}
    env |= {"PYTHONPATH": str(ROOT), "MASTRA_PORT": str(port)}
    env["DATABASE_URL"] = cluster.create_database()
    command = [sys.executable, "-m", "runtime", "serve", str(config), "--workers", "2"]
    log = bytearray()
    async with trio.open_nursery() as nursery:
        parent = await trio.lowlevel.open_process(
            command, cwd=tmp_path, env=env, stderr=subprocess.PIPE
        )
        assert parent.stderr is not None

        async def drain() -> None:
            assert parent.stderr is not None
            async for chunk in parent.stderr:
                log.extend(chunk)

        nursery.start_soon(drain)
        try:
            with trio.fail_after(60):
                while log.count(b"serving HTTP on") < 2:
                    await trio.sleep(0.05)
            yield parent, log
        finally:
            if parent.returncode is None:
                parent.kill()
                await parent.wait()


async def test_a_dead_worker_stops_the_others(tmp_path: Path, pg_cluster: Cluster) -> None:
    async with _open_workers(tmp_path, pg_cluster, _free_port()) as (parent, log):
        workers = _children(parent.pid)
        os.kill(min(workers), signal.SIGKILL)
        with trio.fail_after(60):
            assert await parent.wait() == 1
        assert b"exited with code -9; stopping the others" in log
        assert not _alive(workers)


async def test_two_workers_serve_one_port_and_share_one_database(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    port = _free_port()
    async with _open_workers(tmp_path, pg_cluster, port) as (parent, log):
        workers = _children(parent.pid)
        assert len(workers) == 2
        assert _listeners(port) == workers  # both listen on the one port
        base = f"http://127.0.0.1:{port}"
        for i in range(12):  # a new connection each: the kernel spreads them
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                body = {"messages": f"hello {i}", "memory": {"thread": "t", "resource": "u"}}
                reply = await client.post("/api/agents/echo/generate", json=body)
                assert reply.status_code == 200, reply.text
                assert reply.json()["text"] == f"Echo: hello {i}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            listed = await client.get("/api/memory/threads/t/messages?agentId=echo")
        assert listed.status_code == 200, listed.text
        texts = [str(m["content"]) for m in listed.json()["messages"] if m["role"] == "user"]
        assert len(texts) == 12 and all(f"hello {i}" in texts[i] for i in range(12))
        parent.send_signal(signal.SIGTERM)
        with trio.fail_after(60):
            assert await parent.wait() == 0, log.decode(errors="replace")
        assert not _alive(workers)
