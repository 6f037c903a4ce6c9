"""Two nodes on one Postgres under load, one of them killed with SIGKILL at a random moment
in each of ten rounds and started again: every workflow run a node acknowledged ends
``success`` (none stays running), and every agent turn a node acknowledged is in its
thread exactly once."""

from __future__ import annotations

import random
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from tests.e2e.pg_configs import DEMO_AGENT, PG_STORE, QUIET, SERVER
from tests.e2e.serve import Served, open_served
from tests.pgcluster import Cluster

CONFIG = (
    QUIET
    + PG_STORE
    + DEMO_AGENT
    + """
[[actors]]
name = "chain"
kind = "workflow"
factory = "tests.e2e.lease_app:chain_app"
"""
    + SERVER
)
ROUNDS = 10
PER_ROUND = 6  # runs and turns each, spread over both nodes


class Acknowledged:
    """What the nodes acknowledged: run ids and (thread, text) of turns."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.turns: list[tuple[str, str]] = []


async def _start_run(client: httpx.AsyncClient, url: str, run_id: str, ack: Acknowledged) -> None:
    try:
        response = await client.post(
            f"{url}/api/workflows/chain/start?runId={run_id}", json={"inputData": {"n": 0}}
        )
    except httpx.HTTPError:
        return  # its node died first: not acknowledged
    if response.status_code == 200:
        ack.runs.append(run_id)


async def _turn(
    client: httpx.AsyncClient, url: str, thread: str, text: str, ack: Acknowledged
) -> None:
    body = {"messages": text, "memory": {"thread": thread, "resource": "kills"}}
    try:
        response = await client.post(f"{url}/api/agents/echo/generate", json=body)
    except httpx.HTTPError:
        return
    if response.status_code == 200:
        ack.turns.append((thread, text))


async def _round(
    client: httpx.AsyncClient,
    nodes: list[Served],
    number: int,
    ack: Acknowledged,
    rng: random.Random,
) -> int:
    """Send a round's requests to both nodes, kill one of them meanwhile; its index."""
    victim = rng.randrange(len(nodes))
    async with trio.open_nursery() as nursery:
        for k in range(PER_ROUND):
            url = nodes[k % len(nodes)].url
            nursery.start_soon(_start_run, client, url, f"r{number}-{k}", ack)
            nursery.start_soon(_turn, client, url, f"t{number}", f"turn {number}-{k}", ack)
        await trio.sleep(rng.uniform(0.0, 0.3))
        nodes[victim].process.kill()
    await nodes[victim].process.wait()
    return victim


async def _settled(client: httpx.AsyncClient, url: str, run_id: str) -> dict[str, Any]:
    with trio.fail_after(60):
        while True:
            response = await client.get(f"{url}/api/workflows/chain/runs/{run_id}")
            assert response.status_code == 200, response.text
            run: dict[str, Any] = response.json()
            if run["status"] not in ("running", "waiting", "pending"):
                return run
            await trio.sleep(0.1)


@pytest.mark.slow
async def test_acknowledged_runs_and_turns_survive_ten_kills(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    env = {"DATABASE_URL": pg_cluster.create_database()}
    rng = random.Random(20261203)
    ack = Acknowledged()
    async with AsyncExitStack() as stack, httpx.AsyncClient(timeout=30) as client:
        nodes = [await stack.enter_async_context(open_served(config, tmp_path, env)) for _ in "ab"]
        for number in range(ROUNDS):
            victim = await _round(client, nodes, number, ack, rng)
            nodes[victim] = await stack.enter_async_context(open_served(config, tmp_path, env))
        survivor = nodes[0].url
        runs = [await _settled(client, survivor, run_id) for run_id in ack.runs]
        threads = {thread for thread, _ in ack.turns}
        stored: dict[str, list[str]] = {}
        for thread in threads:
            page = await client.get(
                f"{survivor}/api/memory/threads/{thread}/messages?agentId=echo&perPage=1000"
            )
            assert page.status_code == 200, page.text
            stored[thread] = [
                m["content"]["content"] for m in page.json()["messages"] if m["role"] == "user"
            ]
    assert len(ack.runs) >= ROUNDS and len(ack.turns) >= ROUNDS  # the load got through
    assert [r["status"] for r in runs] == ["success"] * len(runs)
    assert all(r["result"] == {"n": 3} for r in runs)
    for thread, text in ack.turns:
        assert stored[thread].count(text) == 1, (thread, text, stored[thread])
