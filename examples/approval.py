"""Human in the loop: a workflow that suspends for an approval, survives a restart, resumes.

```
python -m examples.approval start data/approval.db invoice-7     # prints the run, suspended
python -m examples.approval approve data/approval.db RUN_ID ann   # a new process resumes it
python -m examples.approval show data/approval.db RUN_ID
```

Each command is its own process: the suspended run lives only in the SQLite file between them.
Every command prints the run result as one line of JSON (Mastra's shape).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import trio

from actors.stores import SqliteStore
from actors.workflow import StepContext, Workflow, WorkflowRef, step
from runtime import RuntimeConfig, TelemetryConfig, open_runtime


class Item(msgspec.Struct):
    item: str


class Request(msgspec.Struct):
    reason: str
    item: str


class Decision(msgspec.Struct):
    approved: bool
    approver: str = "unknown"


class Decided(msgspec.Struct):
    item: str
    approved: bool
    approver: str


class Status(msgspec.Struct):
    status: str


async def request_approval(ctx: StepContext[Item]) -> Decided:
    """Suspends until resumed with ``{approved, approver?}``."""
    decision = ctx.resume_data
    if decision is None:
        await ctx.suspend(Request(reason="approval required", item=ctx.input_data.item))
    return Decided(item=ctx.input_data.item, approved=decision.approved, approver=decision.approver)


def finalize(ctx: StepContext[Decided]) -> Status:
    """Turns the decision into a status."""
    d = ctx.input_data
    return Status(f"{d.item} {'approved' if d.approved else 'rejected'} by {d.approver}")


approval = (
    Workflow("approval", Item, Status, description="suspends for an approval, then finalizes")
    .then(
        step(
            "request-approval",
            Item,
            Decided,
            request_approval,
            suspend_schema=Request,
            resume_schema=Decision,
        )
    )
    .then(step("finalize", Decided, Status, finalize))
    .commit()
)


@asynccontextmanager
async def open_approval(db: str) -> AsyncIterator[WorkflowRef]:
    """The runtime with the store on ``db`` and the approval workflow."""
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        await rt.spawn(SqliteStore, db, name="store", kind="store")
        yield await rt.spawn(approval.deploy(store="store"))


async def main(argv: list[str]) -> dict[str, object]:
    """Run one command; returns the run result in Mastra's shape."""
    command, db, *rest = argv
    async with open_approval(db) as wf:
        match command, rest:
            case "start", [item]:
                result = await wf.start({"item": item})
            case "approve", [run_id, approver]:
                result = await wf.resume(run_id, {"approved": True, "approver": approver})
            case "reject", [run_id, approver]:
                result = await wf.resume(run_id, {"approved": False, "approver": approver})
            case "show", [run_id]:
                result = await wf.wait(run_id)
            case _:
                raise SystemExit(f"usage: {__doc__}")
    return result.to_mastra()


if __name__ == "__main__":
    body = trio.run(main, sys.argv[1:])
    sys.stdout.write(msgspec.json.encode(body).decode() + "\n")
