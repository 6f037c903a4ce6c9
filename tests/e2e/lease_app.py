"""Two-step workflows for the take-over tests: each step appends what it does, and on which
node (``NODE``), to the file ``EXEC_LOG``; the second step never ends on node ``a``.
``relay`` leases its runs for 1.5 s, ``patient`` for a minute (so only a wake-up from
another node, never a lease's expiry or a heartbeat, moves its runs within the tests)."""

from __future__ import annotations

import os

import msgspec
import trio

from actors.workflow import StepContext, Workflow, step


class Count(msgspec.Struct, frozen=True):
    """The number carried from step to step."""

    n: int


def _append(line: str) -> None:
    with open(os.environ["EXEC_LOG"], "a") as log:
        log.write(line + "\n")


async def _first(ctx: StepContext[Count]) -> Count:
    await trio.to_thread.run_sync(_append, f"first {os.environ['NODE']}")
    return Count(ctx.input_data.n + 1)


async def _second(ctx: StepContext[Count]) -> Count:
    await trio.to_thread.run_sync(_append, f"second {os.environ['NODE']}")
    if os.environ["NODE"] == "a":
        await trio.sleep_forever()  # node a is killed in the middle of this step
    return Count(ctx.input_data.n * 10)


def _two_steps(workflow_id: str) -> Workflow:
    return (
        Workflow(workflow_id, Count, Count)
        .then(step("first", Count, Count, _first))
        .then(step("second", Count, Count, _second))
        .commit()
    )


relay_app = _two_steps("relay").deploy(store="store", lease_for=1.5)
patient_app = _two_steps("patient").deploy(store="store", lease_for=60.0)


async def _hop(ctx: StepContext[Count]) -> Count:
    await trio.sleep(0.05)  # long enough for kills to land in the middle of runs
    return Count(ctx.input_data.n + 1)


chain = (
    Workflow("chain", Count, Count)
    .then(step("one", Count, Count, _hop))
    .then(step("two", Count, Count, _hop))
    .then(step("three", Count, Count, _hop))
    .commit()
)
chain_app = chain.deploy(store="store", lease_for=1.0)
