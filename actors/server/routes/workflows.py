"""``/api/workflows``: describe workflows, create, start, resume, stream, list and cancel runs.

Errors of the workflow actor map to HTTP: bad input or resume data 400 naming the field,
an unknown workflow or run 404 with Mastra's texts, a run in the wrong state 409.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from actors.server._context import AppContext
from actors.server._http import (
    BadRequest,
    Issue,
    NotFound,
    allowed,
    decode_body,
    issue_from_validation,
    json_response,
)
from actors.server._workflow_wire import listed_run_json, run_json, workflow_json
from actors.workflow import (
    InvalidRunState,
    RunEvent,
    RunNotFound,
    RunStatus,
    SchemaViolation,
    StartRun,
    StreamRun,
    WorkflowRef,
)

__all__ = ["routes"]

_json = msgspec.json.Encoder()
_RECORD_SEPARATOR = b"\x1e"
_STATUSES = (
    "running",
    "success",
    "failed",
    "suspended",
    "waiting",
    "canceled",
    "bailed",
    "pending",
)


class StartBody(msgspec.Struct, frozen=True, kw_only=True):
    """``start``, ``start-async`` and ``stream``: the run's input."""

    inputData: Any = None
    requestContext: dict[str, Any] = {}
    resourceId: str | None = None


class ResumeBody(msgspec.Struct, frozen=True, kw_only=True):
    """``resume`` and ``resume-async``: which step, with what data."""

    step: str | list[str] | None = None
    resumeData: Any = None
    requestContext: dict[str, Any] = {}


class RunsQuery(msgspec.Struct, frozen=True, kw_only=True):
    """``GET /runs`` query parameters: ``perPage``/``page``, or ``limit``/``offset`` as older
    clients (and Studio) send them; neither: every run."""

    perPage: Annotated[int, msgspec.Meta(ge=1)] | None = None
    page: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1)] | None = None
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    status: RunStatus | None = None
    resourceId: str | None = None
    fromDate: datetime | None = None
    toDate: datetime | None = None


# -- errors and parameters ---------------------------------------------------------------


@contextmanager
def _mapped() -> Iterator[None]:
    """Turn the workflow actor's errors into HTTP errors (400, 404, 409)."""
    try:
        yield
    except SchemaViolation as exc:
        field = exc.field or ("resumeData" if exc.role == "resume data" else "inputData")
        label = "resume data" if exc.role == "resume data" else "input data"
        error = f"Invalid {label}: \n- {field}: {exc.detail}"
        raise BadRequest(
            [Issue(field=field, message=exc.detail, path=f"$.{field}")], error
        ) from None
    except RunNotFound:
        raise NotFound("Workflow run not found") from None
    except InvalidRunState as exc:
        raise HTTPException(409, detail=str(exc)) from None


def _workflow(request: Request) -> WorkflowRef:
    ref = AppContext.of(request).rt.lookup(request.path_params["workflow_id"], kind="workflow")
    if ref is None:
        raise NotFound("Workflow not found")
    return WorkflowRef(ref)


def _required_run_id(request: Request) -> str:
    run_id = request.query_params.get("runId")
    if not run_id:
        issue = Issue(field="runId", message="runId is required", path="$.runId")
        raise BadRequest([issue], "runId required")
    return run_id


def _runs_query(request: Request) -> RunsQuery:
    try:
        return msgspec.convert(dict(request.query_params), RunsQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest([issue_from_validation(exc)], "Invalid query parameters") from None


def _epoch(stamp: datetime | None) -> float | None:
    if stamp is None:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


# -- handlers -------------------------------------------------------------------------------


async def list_workflows(request: Request) -> Response:
    """Every workflow, keyed by id."""
    refs = [
        WorkflowRef(ref)
        for name, ref in AppContext.of(request).rt.actors("workflow").items()
        if allowed(request, "workflows", name)
    ]
    return json_response({ref.id: workflow_json(await ref.describe()) for ref in refs})


async def get_workflow(request: Request) -> Response:
    """One workflow: steps, step graph and schemas; 404 if unknown."""
    return json_response(workflow_json(await _workflow(request).describe()))


async def create_run(request: Request) -> Response:
    """Reserve a run id (``?runId`` or a new UUID); replies ``{runId}``."""
    wf = _workflow(request)
    with _mapped():
        run_id = await wf.create_run(request.query_params.get("runId") or None)
    return json_response({"runId": run_id})


async def start_async(request: Request) -> Response:
    """Start a run and wait until it stops running; replies the run result.

    Without ``?runId`` the run is created here. A client that goes away does not cancel
    the run."""
    wf = _workflow(request)
    body = await decode_body(request, StartBody)
    with _mapped():
        result = await wf.start(
            body.inputData,
            run_id=request.query_params.get("runId") or None,
            resource_id=body.resourceId,
            request_context=body.requestContext,
        )
    return json_response(result.to_mastra())


async def start(request: Request) -> Response:
    """Start the run ``?runId`` in the background, once its first snapshot is durable."""
    wf = _workflow(request)
    run_id = _required_run_id(request)
    body = await decode_body(request, StartBody)
    with _mapped():
        msg = StartRun(
            input=body.inputData,
            run_id=run_id,
            resource_id=body.resourceId,
            request_context=body.requestContext,
            wait=False,
        )
        await wf.ref.ask(msg)
    return json_response({"message": "Workflow run started"})


async def resume_async(request: Request) -> Response:
    """Resume the suspended run ``?runId`` and wait; replies the run result."""
    wf = _workflow(request)
    run_id = _required_run_id(request)
    body = await decode_body(request, ResumeBody)
    with _mapped():
        result = await wf.resume(run_id, body.resumeData, step=body.step)
    return json_response(result.to_mastra())


async def resume(request: Request) -> Response:
    """Resume the suspended run ``?runId`` in the background."""
    wf = _workflow(request)
    run_id = _required_run_id(request)
    body = await decode_body(request, ResumeBody)
    with _mapped():
        await wf.resume_async(run_id, body.resumeData, step=body.step)
    return json_response({"message": "Workflow run resumed"})


class _RecordStream(Response):
    """``text/plain`` records, each a JSON object followed by ``0x1E``, sent as produced.

    The run starts before the response does, so bad input still gets a 400. A client that
    disconnects does not cancel the run.
    """

    def __init__(self, wf: WorkflowRef, body: StartBody, run_id: str | None) -> None:
        super().__init__(media_type="text/plain")
        self.wf, self.start_body, self.run_id = wf, body, run_id

    @asynccontextmanager
    async def _events(self) -> AsyncIterator[tuple[RunEvent | None, AsyncIterator[RunEvent]]]:
        with _mapped():
            msg = StreamRun(
                input=self.start_body.inputData,
                run_id=self.run_id,
                resource_id=self.start_body.resourceId,
                request_context=self.start_body.requestContext,
            )
            async with self.wf.ref.stream(msg) as events:
                it = aiter(events)
                first = await anext(it, None)
                yield first, it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._events() as (first, events):
            headers = [(b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            if first is not None:
                await self._send(send, first)
                async for event in events:
                    await self._send(send, event)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _send(send: Send, event: RunEvent) -> None:
        record = _json.encode(event.to_mastra()) + _RECORD_SEPARATOR
        await send({"type": "http.response.body", "body": record, "more_body": True})


async def stream(request: Request) -> Response:
    """Start a run and stream its events as ``0x1E``-separated JSON records."""
    wf = _workflow(request)
    body = await decode_body(request, StartBody)
    return _RecordStream(wf, body, request.query_params.get("runId") or None)


async def list_runs(request: Request) -> Response:
    """The workflow's runs, newest first: ``status``, ``resourceId``, ``fromDate``,
    ``toDate`` (ISO 8601) filters, ``perPage``/``page`` paging; replies ``{runs, total}``."""
    wf = _workflow(request)
    q = _runs_query(request)
    result = await wf.list_runs(
        status=q.status,
        resource_id=q.resourceId or None,
        from_date=_epoch(q.fromDate),
        to_date=_epoch(q.toDate),
        limit=q.perPage if q.perPage is not None else q.limit,
        offset=q.offset if q.perPage is None else q.page * q.perPage,
    )
    info = await wf.describe()
    runs = [listed_run_json(s, info) for s in result.runs]
    return json_response({"runs": runs, "total": result.total})


async def get_run(request: Request) -> Response:
    """One run with its step records; 404 if unknown."""
    wf = _workflow(request)
    with _mapped():
        snapshot = await wf.get_run(request.path_params["run_id"])
    return json_response(run_json(snapshot, await wf.describe()))


async def cancel_run(request: Request) -> Response:
    """Cancel a run (running steps are cancelled, a suspended run ends)."""
    wf = _workflow(request)
    with _mapped():
        await wf.cancel(request.path_params["run_id"])
    return json_response({"message": "Workflow run cancelled"})


def routes() -> list[Route]:
    """The workflow routes."""
    base = "/api/workflows/{workflow_id}"
    post = ["POST"]
    return [
        Route("/api/workflows", list_workflows, methods=["GET"]),
        Route(base, get_workflow, methods=["GET"]),
        Route(f"{base}/create-run", create_run, methods=post),
        Route(f"{base}/start-async", start_async, methods=post),
        Route(f"{base}/start", start, methods=post),
        Route(f"{base}/resume-async", resume_async, methods=post),
        Route(f"{base}/resume", resume, methods=post),
        Route(f"{base}/stream", stream, methods=post),
        Route(f"{base}/runs", list_runs, methods=["GET"]),
        Route(f"{base}/runs/{{run_id}}", get_run, methods=["GET"]),
        Route(f"{base}/runs/{{run_id}}/cancel", cancel_run, methods=post),
    ]
