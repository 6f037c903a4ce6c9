"""Run state as it is persisted: the snapshot, per-step records, per-node progress.

The snapshot is a mutable msgspec Struct owned by one run's engine. Its builtins form (camel
case keys, absent values omitted) is what the store keeps and what Mastra clients read:
``context`` holds the step records, ``stepExecutionPath`` the order steps started in.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec

__all__ = ["NodeState", "RunSnapshot", "RunStatus", "StepRecord", "StepStatus", "now_ms"]

RunStatus = Literal[
    "pending", "running", "success", "failed", "suspended", "waiting", "canceled", "bailed"
]
StepStatus = Literal["running", "success", "failed", "suspended", "waiting", "canceled", "bailed"]
NodeStatus = Literal["running", "success", "failed", "suspended", "canceled", "bailed"]
TERMINAL: frozenset[str] = frozenset({"success", "failed", "canceled", "bailed"})


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch (Mastra's time unit)."""
    return int(time.time() * 1000)


class StepRecord(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """One step of a run, as Mastra reports it."""

    status: StepStatus
    payload: Any = None
    output: Any = None
    error: str | None = None
    started_at: int = 0
    ended_at: int | None = None
    suspend_payload: Any = None
    suspended_at: int | None = None
    resume_payload: Any = None
    resumed_at: int | None = None
    retry_count: int = 0


class NodeState(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """Durable progress of one graph node.

    ``output``: a succeeded branch or map node's output (every other node's output is in
    its step record, ``RunSnapshot.context``); ``iteration`` / ``value``: completed loop
    iterations and the latest output; ``done``: finished foreach items (by index, until the
    loop succeeded) or branch steps (by id); ``selected``: the branch steps chosen;
    ``suspended``: foreach items waiting for resume data; ``wake_at``: when a sleep ends
    (epoch seconds); ``child``: the snapshot of a nested workflow.
    """

    status: NodeStatus
    output: Any = None
    iteration: int = 0
    value: Any = None
    done: dict[str, Any] = msgspec.field(default_factory=dict)
    selected: list[str] | None = None
    suspended: list[int] = msgspec.field(default_factory=list)
    wake_at: float | None = None
    child: RunSnapshot | None = None


class RunSnapshot(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """Everything needed to continue a run after a restart."""

    run_id: str
    workflow_id: str
    status: RunStatus = "pending"
    input: Any = None
    context: dict[str, StepRecord] = msgspec.field(default_factory=dict)
    nodes: dict[str, NodeState] = msgspec.field(default_factory=dict)
    step_execution_path: list[str] = msgspec.field(default_factory=list)
    result: Any = None
    error: str | None = None
    resource_id: str | None = None
    request_context: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0

    def suspended_paths(self) -> list[list[str]]:
        """The paths of suspended steps (``[nested workflow id, ..., step id]``)."""
        paths: list[list[str]] = []
        for step_id, record in self.context.items():
            if record.status != "suspended":
                continue
            node = self.nodes.get(step_id)
            child = None if node is None else node.child
            if child is not None:
                paths.extend([step_id, *inner] for inner in child.suspended_paths())
            else:
                paths.append([step_id])
        return paths

    def suspend_payloads(self) -> dict[str, Any]:
        """``{step id: suspend payload}`` of the suspended steps."""
        return {
            sid: r.suspend_payload for sid, r in self.context.items() if r.status == "suspended"
        }

    def results(self) -> dict[str, Any]:
        """``{step id: output}`` of every successful step (what ``get_step_result`` reads)."""
        return {sid: r.output for sid, r in self.context.items() if r.status == "success"}


def encode(snapshot: RunSnapshot) -> Any:
    """The snapshot as JSON-compatible builtins."""
    return msgspec.to_builtins(snapshot)


def decode(data: Any) -> RunSnapshot:
    """A snapshot from its builtins form (raises ``msgspec.ValidationError`` if corrupt)."""
    return msgspec.convert(data, RunSnapshot)
