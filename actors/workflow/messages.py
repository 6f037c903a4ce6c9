"""Messages understood by a workflow actor, and what it answers with.

Requests are frozen, kw_only, tagged msgspec Structs; replies are Structs too, and every
one round-trips through msgpack and JSON. ``RunResult.to_mastra()`` and
``RunEvent.to_mastra()`` give the exact shapes Mastra's HTTP API returns.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from actors.workflow._snapshot import RunSnapshot, RunStatus, StepRecord

__all__ = [
    "CancelRun",
    "CreateRun",
    "DescribeWorkflow",
    "EventType",
    "GetRun",
    "ListRuns",
    "ResumeRun",
    "RunEvent",
    "RunPage",
    "RunResult",
    "StartRun",
    "StepInfo",
    "StreamRun",
    "WaitRun",
    "WatchRun",
    "WorkflowInfo",
    "WorkflowRequest",
]


class CreateRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Reserve a run id (a new UUID unless given); replies the id."""

    run_id: str | None = None
    resource_id: str | None = None


class StartRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Start a run with ``input``; replies the ``RunResult`` once it stops running
    (``wait``), or the run id at once (``wait=False``)."""

    input: Any = None
    run_id: str | None = None
    wait: bool = True
    resource_id: str | None = None
    request_context: dict[str, Any] = {}


class ResumeRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Resume a suspended run: ``step`` is a step id or a path into nested workflows
    (default: the only suspended step); ``resume_data`` is checked against its resume schema."""

    run_id: str
    step: str | list[str] | None = None
    resume_data: Any = None
    wait: bool = True


class CancelRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cancel a run: running steps are cancelled; replies the final ``RunResult``."""

    run_id: str


class WaitRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Wait until the run is no longer running; replies its ``RunResult``."""

    run_id: str


class WatchRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Stream the run's ``RunEvent``s from now until it stops running (send with stream())."""

    run_id: str


class StreamRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Start a run and stream all of its ``RunEvent``s (send with stream())."""

    input: Any = None
    run_id: str | None = None
    resource_id: str | None = None
    request_context: dict[str, Any] = {}


class GetRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The run's latest snapshot; raises ``RunNotFound``."""

    run_id: str


class ListRuns(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The workflow's runs matching every given filter, newest first; replies ``RunPage``.

    Dates are epoch seconds; ``limit=None`` means all.
    """

    status: RunStatus | None = None
    resource_id: str | None = None
    from_date: float | None = None
    to_date: float | None = None
    limit: int | None = None
    offset: int = 0


class DescribeWorkflow(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Replies the ``WorkflowInfo`` (steps, graph and schemas)."""


WorkflowRequest = (
    CreateRun
    | StartRun
    | ResumeRun
    | CancelRun
    | WaitRun
    | WatchRun
    | StreamRun
    | GetRun
    | ListRuns
    | DescribeWorkflow
)


class RunResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    """A run's outcome (or its state when it suspended)."""

    run_id: str
    status: RunStatus
    input: Any = None
    steps: dict[str, StepRecord] = {}
    step_execution_path: list[str] = []
    result: Any = None
    error: str | None = None
    suspended: list[list[str]] = []
    suspend_payload: dict[str, Any] = {}

    @classmethod
    def of(cls, snapshot: RunSnapshot) -> RunResult:
        """The result view of a snapshot (copies the containers it holds)."""
        suspended = snapshot.status == "suspended"
        return cls(
            run_id=snapshot.run_id,
            status=snapshot.status,
            input=snapshot.input,
            steps=dict(snapshot.context),
            step_execution_path=list(snapshot.step_execution_path),
            result=snapshot.result,
            error=snapshot.error,
            suspended=snapshot.suspended_paths() if suspended else [],
            suspend_payload=snapshot.suspend_payloads() if suspended else {},
        )

    def to_mastra(self) -> dict[str, Any]:
        """Mastra's run result: ``steps`` starts with the ``input`` pseudo-step."""
        steps: dict[str, Any] = {"input": self.input}
        for step_id, record in msgspec.to_builtins(self.steps).items():
            record.pop("payload", None)  # run results leave it out; snapshots keep it
            steps[step_id] = record
        body: dict[str, Any] = {"status": self.status, "steps": steps, "input": self.input}
        body["stepExecutionPath"] = list(self.step_execution_path)
        if self.status in ("success", "bailed"):
            body["result"] = self.result
        if self.error is not None:
            body["error"] = self.error
        if self.suspended:
            body["suspended"] = self.suspended
            body["suspendPayload"] = self.suspend_payload
        body["runId"] = self.run_id
        return body


class RunPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of runs and the total number matching the filters."""

    runs: list[RunSnapshot]
    total: int


EventType = Literal[
    "workflow-start",
    "workflow-step-start",
    "workflow-step-result",
    "workflow-step-suspended",
    "workflow-step-waiting",
    "workflow-step-progress",
    "workflow-finish",
]


class RunEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event of a run, with Mastra's payload keys (``stepName``, ``workflowStatus``...)."""

    type: EventType
    run_id: str
    payload: dict[str, Any]

    def to_mastra(self) -> dict[str, Any]:
        """Mastra's stream record: ``{type, runId, from: "WORKFLOW", payload}``."""
        return {
            "type": self.type,
            "runId": self.run_id,
            "from": "WORKFLOW",
            "payload": self.payload,
        }


class StepInfo(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A step as the HTTP API lists it; schemas are JSON Schema documents."""

    id: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    resume_schema: dict[str, Any] | None = None
    suspend_schema: dict[str, Any] | None = None
    is_workflow: bool = False


class WorkflowInfo(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A workflow as the HTTP API lists it."""

    id: str
    description: str
    steps: dict[str, StepInfo]
    step_graph: list[dict[str, Any]]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
