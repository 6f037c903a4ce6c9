"""Workflow runs as leased rows: two real nodes share one Postgres. The node driving a run
is killed with SIGKILL in the middle of a step; the other node takes the run over once its
lease expired and finishes it from the last acknowledged snapshot, never running a
completed step again. A node stopped with SIGTERM hands its runs over at once. A cancel or
a resume works through either node, and a cancel wakes the driving node at once."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import trio

from tests.e2e.pg_configs import PG_STORE, QUIET, SERVER
from tests.e2e.serve import Served, open_served
from tests.pgcluster import Cluster

CONFIG = (
    QUIET
    + PG_STORE
    + """
[[actors]]
name = "relay"
kind = "workflow"
factory = "tests.e2e.lease_app:relay_app"

[[actors]]
name = "patient"
kind = "workflow"
factory = "tests.e2e.lease_app:patient_app"

[[actors]]
name = "approval"
kind = "workflow"
factory = "actors.demo.workflows:approval_app"
"""
    + SERVER
)


@asynccontextmanager
async def _two_nodes(
    tmp_path: Path, cluster: Cluster
) -> AsyncIterator[tuple[Served, Served, Path]]:
    """Nodes ``a`` and ``b`` serving ``CONFIG`` on a fresh database, and the file their
    steps log to; a node still alive at the end is killed."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    executed = tmp_path / "exec.log"
    env = {"EXEC_LOG": str(executed), "DATABASE_URL": cluster.create_database()}
    async with (
        open_served(config, tmp_path, env | {"NODE": "a"}) as a,
        open_served(config, tmp_path, env | {"NODE": "b"}) as b,
    ):
        yield a, b, executed


async def _start_on_a(
    client: httpx.AsyncClient, a: Served, executed: Path, workflow: str, run_id: str
) -> None:
    """Start a run on node a and wait until a runs its second step (which never ends
    there; the first step is acknowledged before it)."""
    started = await client.post(
        f"{a.url}/api/workflows/{workflow}/start?runId={run_id}", json={"inputData": {"n": 1}}
    )
    assert started.status_code == 200, started.text
    with trio.fail_after(60):
        while "second a" not in await trio.to_thread.run_sync(_lines, executed):
            await trio.sleep(0.05)


async def _when_stopped(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The run at ``url`` once it is no longer running."""
    while True:
        run = await client.get(url)
        assert run.status_code == 200, run.text
        if run.json()["status"] != "running":
            return run
        await trio.sleep(0.05)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_a_killed_nodes_run_is_finished_by_the_other(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    async with (
        _two_nodes(tmp_path, pg_cluster) as (a, b, executed),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _start_on_a(client, a, executed, "relay", "r1")
        a.process.send_signal(signal.SIGKILL)
        await a.process.wait()
        with trio.fail_after(60):
            run = await _when_stopped(client, f"{b.url}/api/workflows/relay/runs/r1")
    assert run.json()["status"] == "success", run.text
    assert run.json()["result"] == {"n": 20}
    assert _lines(executed) == ["first a", "second a", "second b"]


async def test_runs_are_canceled_and_resumed_through_any_node(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    async with (
        _two_nodes(tmp_path, pg_cluster) as (a, b, executed),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _start_on_a(client, a, executed, "relay", "c1")
        with trio.fail_after(30):
            canceled = await client.post(f"{b.url}/api/workflows/relay/runs/c1/cancel")
        assert canceled.status_code == 200, canceled.text
        seen_by_a = await client.get(f"{a.url}/api/workflows/relay/runs/c1")
        suspended = await client.post(
            f"{a.url}/api/workflows/approval/start-async?runId=s1",
            json={"inputData": {"item": "laptop"}},
        )
        assert suspended.json()["status"] == "suspended", suspended.text
        resume = {"step": "request-approval", "resumeData": {"approved": True}}
        resumed = await client.post(
            f"{b.url}/api/workflows/approval/resume-async?runId=s1", json=resume
        )
    assert resumed.json()["status"] == "success", resumed.text
    assert seen_by_a.json()["status"] == "canceled"
    assert _lines(executed) == ["first a", "second a"]  # nobody ran it again


async def test_a_node_stopped_gracefully_hands_its_runs_over_at_once(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # ``patient`` leases for a minute and beats every 20 s: only the hand-over and its
    # wake-up let b finish within the limit
    async with (
        _two_nodes(tmp_path, pg_cluster) as (a, b, executed),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _start_on_a(client, a, executed, "patient", "h1")
        a.process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await a.process.wait() == 0
            run = await _when_stopped(client, f"{b.url}/api/workflows/patient/runs/h1")
    assert "workflow 'patient': handed 1 runs over" in a.text()
    assert "WARNING" not in a.text()  # a planned stop is no incident
    assert run.json()["status"] == "success", run.text
    assert _lines(executed) == ["first a", "second a", "second b"]


async def test_a_cancel_through_another_node_wakes_the_driving_node(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # ``patient``'s heartbeat looks every 20 s: only the wake-up cancels within the limit
    async with (
        _two_nodes(tmp_path, pg_cluster) as (a, b, executed),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _start_on_a(client, a, executed, "patient", "w1")
        with trio.fail_after(10):
            canceled = await client.post(f"{b.url}/api/workflows/patient/runs/w1/cancel")
        seen_by_a = await client.get(f"{a.url}/api/workflows/patient/runs/w1")
    assert canceled.status_code == 200, canceled.text
    assert seen_by_a.json()["status"] == "canceled", seen_by_a.text
