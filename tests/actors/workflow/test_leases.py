"""Leases of workflow runs on Postgres, inside one process: a node keeps renewing the
leases of the runs it drives, including runs it took back after a restart, so no other
node can claim them however long a step takes."""

from __future__ import annotations

import functools

import trio

from actors.stores import PostgresStore
from actors.stores.lease_messages import ClaimRuns
from actors.workflow import StepContext, Workflow, step
from runtime import ActorRef, Mastra
from tests.actors.workflow.test_waiting_caller import Value

LEASE = 1.0


def _gated(started: trio.Event, release: trio.Event) -> Workflow:
    async def gated(ctx: StepContext[Value]) -> Value:
        started.set()
        await release.wait()
        return Value(ctx.input_data.value + 1)

    async def first(ctx: StepContext[Value]) -> Value:
        return ctx.input_data

    return (
        Workflow("leased", Value, Value)
        .then(step("first", Value, Value, first))
        .then(step("gated", Value, Value, gated))
        .commit()
    )


async def _claimable(store: ActorRef) -> list[str]:
    """What another node could claim now."""
    other = ClaimRuns(workflow_name="leased", owner="other-node", lease_for=60)
    return [r.run_id for r in await store.ask(other)]


async def test_leases_are_renewed_while_a_step_runs_also_after_a_restart(
    rt: Mastra, pg_url: str
) -> None:
    store = await rt.spawn(functools.partial(PostgresStore, pg_url), name="store", kind="store")
    started, release = trio.Event(), trio.Event()
    flow = _gated(started, release).deploy(store="store", lease_for=LEASE)
    wf = await rt.spawn(flow)
    await wf.start_async({"value": 1}, run_id="r1")
    with trio.fail_after(10):
        await started.wait()
    await trio.sleep(LEASE * 2.5)  # several leases long: renewed meanwhile
    assert await _claimable(store) == []
    await rt.stop(wf.ref)  # the run stays running in the store, leased to this process
    started = trio.Event()
    flow = _gated(started, release).deploy(store="store", lease_for=LEASE)
    wf = await rt.spawn(flow)  # takes the run back at once, without waiting for expiry
    with trio.fail_after(10):
        await started.wait()
    await trio.sleep(LEASE * 2.5)
    assert await _claimable(store) == []
    release.set()
    with trio.fail_after(10):
        result = await wf.wait("r1")
    assert result.status == "success" and result.result == {"value": 2}
    assert await _claimable(store) == []  # a finished run is nobody's
