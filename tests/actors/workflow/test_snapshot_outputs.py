"""Each output is kept once in a run's snapshot: in its step's record, or in the node's
state for the nodes that have no record (branch and map). Snapshots that also kept them in
the node state (as earlier versions saved them) still continue."""

from __future__ import annotations

from typing import Any

import msgspec

from actors.stores.messages import SaveWorkflowRun
from actors.workflow import FlowContext, StepContext, Workflow, step
from runtime import ActorRef, Mastra


class Value(msgspec.Struct):
    value: int


def _inc(id: str, by: int) -> Any:
    def run(ctx: StepContext[Value]) -> Value:
        return Value(ctx.input_data.value + by)

    return step(id, Value, Value, run)


def _halve(ctx: FlowContext) -> dict[str, int]:
    return {"value": ctx.input_data["big"]["value"] // 2}


def _flow() -> Workflow:
    return (
        Workflow("once", Value, Value)
        .then(_inc("first", 1))
        .branch([(lambda ctx: True, _inc("big", 100)), (lambda ctx: False, _inc("small", 1))])
        .map(_halve, output_schema=Value, id="halve")
        .then(_inc("last", 1))
        .commit()
    )


async def test_each_output_is_saved_once(rt: Mastra, store: ActorRef) -> None:
    wf = await rt.spawn(_flow().deploy(store="store"))
    result = await wf.start({"value": 1})
    assert result.status == "success" and result.result == {"value": 52}
    snapshot = await wf.get_run(result.run_id)
    outputs = {sid: record.output for sid, record in snapshot.context.items()}
    assert outputs == {"first": {"value": 2}, "big": {"value": 102}, "last": {"value": 52}}
    nodes = snapshot.nodes
    assert [nodes[sid].output for sid in ("first", "last")] == [None, None]
    assert nodes["branch-1"].output == {"big": {"value": 102}}
    assert nodes["halve"].output == {"value": 51}


async def test_a_run_saved_with_outputs_in_its_nodes_continues(rt: Mastra, store: ActorRef) -> None:
    now = 1_700_000_000_000
    first = {"status": "success", "payload": {"value": 1}, "output": {"value": 2}}
    legacy = {
        "runId": "old",
        "workflowId": "once",
        "status": "running",
        "input": {"value": 1},
        "context": {"first": {**first, "startedAt": now, "endedAt": now}},
        "nodes": {"first": {"status": "success", "output": {"value": 2}}},
        "stepExecutionPath": ["first"],
        "createdAt": now,
        "updatedAt": now,
    }
    await store.ask(
        SaveWorkflowRun(workflow_name="once", run_id="old", status="running", snapshot=legacy)
    )
    wf = await rt.spawn(_flow().deploy(store="store"))  # resumes the running run on start
    result = await wf.wait("old")
    assert result.status == "success" and result.result == {"value": 52}
    assert (await wf.get_run("old")).step_execution_path == ["first", "big", "last"]
