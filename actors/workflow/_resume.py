"""Resuming: find the suspended step a request names, check its data, mark it resumed."""

from __future__ import annotations

from typing import Any

import msgspec

from actors.workflow._errors import InvalidRunState
from actors.workflow._graph import Graph
from actors.workflow._schema import check
from actors.workflow._snapshot import RunSnapshot, now_ms
from actors.workflow.step import Step

__all__ = ["mark_resumed", "resolve_path", "resume_value"]


def resolve_path(snapshot: RunSnapshot, step: str | list[str] | None) -> list[str]:
    """The suspended path ``step`` names: a path, a step id (last or first element of a
    suspended path) or None for the only suspended step. Raises ``InvalidRunState``."""
    paths = snapshot.suspended_paths()
    if step is None:
        if len(paths) != 1:
            names = ", ".join(".".join(p) for p in paths)
            raise InvalidRunState(f"several steps are suspended ({names}); name the step to resume")
        return paths[0]
    if isinstance(step, list):
        if step in paths:
            return list(step)
    else:
        for path in paths:
            if step in (path[-1], path[0]):
                return path
    names = ", ".join(".".join(p) for p in paths) or "none"
    raise InvalidRunState(f"step {step!r} is not suspended (suspended: {names})")


def resume_value(graph: Graph, path: list[str], data: Any) -> Any:
    """``data`` checked against the resume schema of the step at ``path`` (as builtins).

    Raises ``SchemaViolation`` naming the step and the field.
    """
    target = graph.step_at(path)
    schema: Any = Any
    if isinstance(target, Step) and target.resume_schema is not None:
        schema = target.resume_schema
    return check(data, schema, step=path[-1], role="resume data")


def mark_resumed(snapshot: RunSnapshot, graph: Graph, path: list[str], data: Any) -> None:
    """Record the resume data on the step at ``path`` and make its node runnable again."""
    head = path[0]
    record = snapshot.context.get(head)
    node_id = graph.node_of(head)
    if record is None or record.status != "suspended" or node_id is None:
        raise InvalidRunState(f"step {head!r} is not suspended")
    last = len(path) == 1
    snapshot.context[head] = msgspec.structs.replace(
        record, resume_payload=data if last else None, resumed_at=now_ms()
    )
    node = snapshot.nodes[node_id]
    node.status = "running"
    snapshot.status = "running"
    if not last:
        nested = graph.step_at([head])
        if not isinstance(nested, Graph) or node.child is None:
            raise InvalidRunState(f"step {head!r} is not a nested workflow")
        mark_resumed(node.child, nested, path[1:], data)
