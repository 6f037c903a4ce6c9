"""Workflows, runs and snapshots in the JSON shapes Mastra's server answers with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from actors._jsonschema import schema_string
from actors.workflow import RunSnapshot, StepInfo, WorkflowInfo

__all__ = ["listed_run_json", "run_json", "workflow_json"]


def _step_json(info: StepInfo, *, all_steps: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": info.id,
        "description": info.description,
        "inputSchema": schema_string(info.input_schema),
        "outputSchema": schema_string(info.output_schema),
    }
    if info.resume_schema is not None:
        body["resumeSchema"] = schema_string(info.resume_schema)
    if info.suspend_schema is not None:
        body["suspendSchema"] = schema_string(info.suspend_schema)
    if all_steps:
        body["isWorkflow"] = info.is_workflow
    return body


def workflow_json(info: WorkflowInfo) -> dict[str, Any]:
    """A workflow as Mastra lists it: schemas are strings holding ``{"json": schema}``."""
    return {
        "name": info.id,
        "description": info.description,
        "origin": "code",
        "steps": {k: _step_json(s, all_steps=False) for k, s in info.steps.items()},
        "allSteps": {k: _step_json(s, all_steps=True) for k, s in info.steps.items()},
        "stepGraph": info.step_graph,
        "inputSchema": schema_string(info.input_schema),
        "outputSchema": schema_string(info.output_schema),
        "options": {"validateInputs": True, "emitStepEvents": True},
        "isProcessorWorkflow": False,
    }


def _iso(ms: int) -> str:
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _suspended_paths(snap: RunSnapshot, graph: list[dict[str, Any]]) -> dict[str, list[int]]:
    if snap.status != "suspended":
        return {}
    ids = [entry.get("step", {}).get("id") for entry in graph]
    return {p[0]: [ids.index(p[0])] if p[0] in ids else [] for p in snap.suspended_paths()}


def _outcome(snap: RunSnapshot) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if snap.status in ("success", "bailed"):
        body["result"] = snap.result
    if snap.error is not None:
        body["error"] = snap.error
    return body


def run_json(snap: RunSnapshot, info: WorkflowInfo) -> dict[str, Any]:
    """``GET /runs/:runId``: the run with its step records (payloads kept)."""
    return {
        "runId": snap.run_id,
        "workflowName": info.id,
        "resourceId": snap.resource_id,
        "createdAt": _iso(snap.created_at),
        "updatedAt": _iso(snap.updated_at),
        "status": snap.status,
        **_outcome(snap),
        "payload": snap.input,
        "steps": msgspec.to_builtins(snap.context),
        "activeStepsPath": {},
        "serializedStepGraph": info.step_graph,
        "suspendedPaths": _suspended_paths(snap, info.step_graph),
        "resumeLabels": {},
        "waitingPaths": {},
    }


def listed_run_json(snap: RunSnapshot, info: WorkflowInfo) -> dict[str, Any]:
    """One entry of ``GET /runs``: the run and its snapshot in Mastra's stored form."""
    snapshot: dict[str, Any] = {
        "runId": snap.run_id,
        "status": snap.status,
        "value": {},
        "context": {"input": snap.input, **msgspec.to_builtins(snap.context)},
        "activePaths": [],
        "stepExecutionPath": list(snap.step_execution_path),
        "activeStepsPath": {},
        "serializedStepGraph": info.step_graph,
        "suspendedPaths": _suspended_paths(snap, info.step_graph),
        "waitingPaths": {},
        "resumeLabels": {},
        **_outcome(snap),
        "requestContext": snap.request_context,
        "timestamp": snap.updated_at,
    }
    return {
        "workflowName": info.id,
        "runId": snap.run_id,
        "snapshot": snapshot,
        "resourceId": snap.resource_id,
        "createdAt": _iso(snap.created_at),
        "updatedAt": _iso(snap.updated_at),
    }
