"""The description of a workflow that the HTTP API lists (steps, graph, JSON Schemas)."""

from __future__ import annotations

from typing import Any

from actors.workflow._graph import (
    BranchNode,
    ForeachNode,
    Graph,
    LoopNode,
    MapNode,
    Node,
    SleepNode,
    StepNode,
    WorkflowNode,
)
from actors.workflow._schema import json_schema
from actors.workflow.messages import StepInfo, WorkflowInfo
from actors.workflow.step import Step

__all__ = ["describe"]


def _step_info(step: Step) -> StepInfo:
    return StepInfo(
        id=step.id,
        description=step.description,
        input_schema=json_schema(step.input_schema),
        output_schema=json_schema(step.output_schema),
        resume_schema=None if step.resume_schema is None else json_schema(step.resume_schema),
        suspend_schema=None if step.suspend_schema is None else json_schema(step.suspend_schema),
    )


def _entry(step: Step) -> dict[str, Any]:
    return {"id": step.id, "description": step.description, "canSuspend": step.can_suspend}


def _graph_entry(node: Node) -> dict[str, Any]:  # noqa: PLR0911
    match node:
        case StepNode(step=s):
            return {"type": "step", "step": _entry(s)}
        case BranchNode(cases=cases):
            return {
                "type": "conditional",
                "steps": [{"type": "step", "step": _entry(s)} for _, s in cases],
            }
        case LoopNode(step=s, until=until):
            return {
                "type": "loop",
                "step": _entry(s),
                "loopType": "dountil" if until else "dowhile",
            }
        case ForeachNode(step=s, concurrency=n):
            return {"type": "foreach", "step": _entry(s), "opts": {"concurrency": n}}
        case MapNode():
            return {
                "type": "step",
                "step": {"id": node.id, "description": "map", "canSuspend": False},
            }
        case SleepNode(seconds=seconds):
            kind = "sleep" if seconds is not None else "sleepUntil"
            return {"type": kind, "id": node.id, "duration": seconds}
        case WorkflowNode(graph=g):
            entry = {"id": g.workflow_id, "description": "", "canSuspend": True}
            return {"type": "step", "step": entry, "isWorkflow": True}
    return {"type": "unknown", "id": node.id}


def describe(graph: Graph, description: str) -> WorkflowInfo:
    """The ``WorkflowInfo`` of a committed graph; nodes that share inputs form one
    ``parallel`` entry of the step graph."""
    steps = {path: _step_info(step) for path, step in graph.step_paths().items()}
    entries: list[dict[str, Any]] = []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for nid in graph.order:
        node = graph.nodes[nid]
        if node.id.startswith("result-") and isinstance(node, MapNode):
            continue
        entry = _graph_entry(node)
        key = node.deps
        if key in groups and isinstance(node, StepNode):
            groups[key].append(entry)
            continue
        group = [entry]
        groups[key] = group
        entries.append({"group": group})
    step_graph = [
        e["group"][0] if len(e["group"]) == 1 else {"type": "parallel", "steps": e["group"]}
        for e in entries
    ]
    return WorkflowInfo(
        id=graph.workflow_id,
        description=description,
        steps=steps,
        step_graph=step_graph,
        input_schema=json_schema(graph.input_schema),
        output_schema=json_schema(graph.output_schema),
    )
