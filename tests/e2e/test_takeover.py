"""Workflow runs as leased rows: two real nodes share one Postgres; the node driving a run
is killed with SIGKILL in the middle of a step; the other node takes the run over once its
lease expired and finishes it from the last acknowledged snapshot, never running a
completed step again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import trio

from tests.e2e.serve import ROOT
from tests.pgcluster import Cluster

CONFIG = """
[telemetry]
enabled = false

[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:PostgresStore"
options = { url = "${DATABASE_URL}" }

[[actors]]
name = "relay"
kind = "workflow"
factory = "tests.e2e.lease_app:relay_app"

[[actors]]
name = "approval"
kind = "workflow"
factory = "actors.demo.workflows:approval_app"

[[actors]]
name = "server"
factory = "actors.server:Server"
options = { host = "127.0.0.1", port = 0 }
"""


async def _node(
    nursery: trio.Nursery, config: Path, env: dict[str, str], node: str
) -> tuple[trio.Process, str]:
    """Start one ``serve`` process; returns it and its base URL once it listens."""
    log = bytearray()
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "runtime", "serve", str(config)],
        env={**env, "NODE": node},
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr

    async def drain() -> None:
        async for chunk in stderr:
            log.extend(chunk)

    nursery.start_soon(drain)
    marker = b"serving HTTP on "
    with trio.fail_after(60):
        while marker not in log:
            assert process.returncode is None, log.decode(errors="replace")
            await trio.sleep(0.05)
    url = log.split(marker, 1)[1].split()[0].decode()
    return process, url


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_a_killed_nodes_run_is_finished_by_the_other(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    executed = tmp_path / "exec.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTRA_")}
    env |= {"PYTHONPATH": str(ROOT), "EXEC_LOG": str(executed)}
    env["DATABASE_URL"] = pg_cluster.create_database()
    processes: list[trio.Process] = []
    async with trio.open_nursery() as nursery:
        try:
            a, url_a = await _node(nursery, config, env, "a")
            processes.append(a)
            b, url_b = await _node(nursery, config, env, "b")
            processes.append(b)
            async with httpx.AsyncClient(timeout=30) as client:
                started = await client.post(
                    f"{url_a}/api/workflows/relay/start?runId=r1", json={"inputData": {"n": 1}}
                )
                assert started.status_code == 200, started.text
                with trio.fail_after(60):  # the first step is acknowledged before the second
                    while "second a" not in await trio.to_thread.run_sync(_lines, executed):
                        await trio.sleep(0.05)
                a.send_signal(signal.SIGKILL)
                await a.wait()
                with trio.fail_after(60):
                    while True:
                        run = await client.get(f"{url_b}/api/workflows/relay/runs/r1")
                        assert run.status_code == 200, run.text
                        if run.json()["status"] != "running":
                            break
                        await trio.sleep(0.1)
            assert run.json()["status"] == "success", run.text
            assert run.json()["result"] == {"n": 20}
            assert _lines(executed) == ["first a", "second a", "second b"]
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    with trio.move_on_after(30):
                        await process.wait()
                    process.kill()
            nursery.cancel_scope.cancel()


async def test_runs_are_canceled_and_resumed_through_any_node(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    executed = tmp_path / "exec.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTRA_")}
    env |= {"PYTHONPATH": str(ROOT), "EXEC_LOG": str(executed)}
    env["DATABASE_URL"] = pg_cluster.create_database()
    processes: list[trio.Process] = []
    async with trio.open_nursery() as nursery:
        try:
            a, url_a = await _node(nursery, config, env, "a")
            processes.append(a)
            b, url_b = await _node(nursery, config, env, "b")
            processes.append(b)
            async with httpx.AsyncClient(timeout=30) as client:
                started = await client.post(
                    f"{url_a}/api/workflows/relay/start?runId=c1", json={"inputData": {"n": 1}}
                )
                assert started.status_code == 200, started.text
                with trio.fail_after(60):  # node a sits in the second step, which never ends
                    while "second a" not in await trio.to_thread.run_sync(_lines, executed):
                        await trio.sleep(0.05)
                with trio.fail_after(30):
                    canceled = await client.post(f"{url_b}/api/workflows/relay/runs/c1/cancel")
                assert canceled.status_code == 200, canceled.text
                seen_by_a = await client.get(f"{url_a}/api/workflows/relay/runs/c1")
                suspended = await client.post(
                    f"{url_a}/api/workflows/approval/start-async?runId=s1",
                    json={"inputData": {"item": "laptop"}},
                )
                assert suspended.json()["status"] == "suspended", suspended.text
                resume = {"step": "request-approval", "resumeData": {"approved": True}}
                resumed = await client.post(
                    f"{url_b}/api/workflows/approval/resume-async?runId=s1", json=resume
                )
            assert resumed.json()["status"] == "success", resumed.text
            assert seen_by_a.json()["status"] == "canceled"
            assert _lines(executed) == ["first a", "second a"]  # nobody ran it again
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    with trio.move_on_after(30):
                        await process.wait()
                    process.kill()
            nursery.cancel_scope.cancel()
