"""``POST /api/workflows/:workflowId/resume-stream?runId=``: resume a suspended run and
answer the steps it ran and how it finished as ``0x1E``-separated JSON records (Studio's
resume button). The records are sent once the run stops running again (finished, or
suspended anew): a ``workflow-step-result`` per step that ran since the resume, then
``workflow-finish`` carrying the run's status and result. Bad input is a 400 before any
record, an unknown workflow or run a 404, as for ``resume-async``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.server._http import decode_body
from actors.server.routes.workflows import (
    ResumeBody,
    _mapped,
    _required_run_id,
    _workflow,
)

__all__ = ["routes"]

_json = msgspec.json.Encoder()
_USAGE = {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}


def _record(kind: str, run_id: str, payload: dict[str, Any]) -> bytes:
    body = {"type": kind, "runId": run_id, "from": "WORKFLOW", "payload": payload}
    return _json.encode(body) + b"\x1e"


def resume_records(result: dict[str, Any], resumed: set[str]) -> bytes:
    """The records of a run result (Mastra's shape) for the steps in ``resumed`` onwards."""
    run_id = result["runId"]
    out = bytearray()
    for step_id in result.get("stepExecutionPath", []):
        step = result["steps"].get(step_id)
        if step_id == "input" or not isinstance(step, dict) or step_id not in resumed:
            continue
        out += _record("workflow-step-result", run_id, {"id": step_id, "stepName": step_id, **step})
    finish = {
        "workflowStatus": result["status"],
        "metadata": {},
        "output": {"usage": _USAGE},
        "finalWorkflowResult": result.get("result"),
    }
    return bytes(out + _record("workflow-finish", run_id, finish))


async def resume_stream(request: Request) -> Response:
    """Resume the suspended run ``?runId`` and answer its steps' records when it stops."""
    wf = _workflow(request)
    run_id = _required_run_id(request)
    body = await decode_body(request, ResumeBody)
    with _mapped():
        before = await wf.get_run(run_id)
        result = await wf.resume(run_id, body.resumeData, step=body.step)
    done_before = {
        step_id
        for step_id, record in msgspec.to_builtins(before.context).items()
        if isinstance(record, dict) and record.get("status") == "success"
    }
    mastra = result.to_mastra()
    resumed = set(mastra["steps"]) - done_before
    return Response(resume_records(mastra, resumed), media_type="text/plain")


def routes() -> list[Route]:
    """The resume-stream route."""
    base = "/api/workflows/{workflow_id}"
    return [Route(f"{base}/resume-stream", resume_stream, methods=["POST"])]
