"""``/api/observability``: the traces Studio lists and opens, in Mastra's shapes.

``GET /api/observability/traces`` (and ``/traces/light``) answer ``{"pagination": {total,
page, perPage, hasMore}, "spans": [root, ...]}``, newest first; ``GET .../traces/:traceId``
(and ``/light``) ``{"traceId", "spans"}``; ``GET .../traces/:traceId/spans/:spanId``
``{"span"}``; ``POST .../traces/query`` the cursor-paged rows of Studio's trace list.
Without an ``observability`` actor (traces not kept) the lists are empty and
a trace is a 404. Filters come as query parameters, flat (``entityId=echo``) or as the
JSON objects ``filters``, ``pagination`` and ``orderBy``; a bad value is a 400 naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.observability import GetTrace, ListTraces, TraceFilter, TracePage, light
from actors.server._context import AppContext
from actors.server._http import BadRequest, Issue, NotFound, decode_body, json_response
from runtime import ActorRef

__all__ = ["routes", "trace_filter"]

_MAX_PER_PAGE = 1000


class _Range(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime | None = None
    end: datetime | None = None


class _Query(msgspec.Struct, frozen=True, kw_only=True):
    page: int = 0
    perPage: int = 10
    entityType: str | None = None
    entityId: str | None = None
    entityName: str | None = None
    spanType: str | None = None
    status: Literal["success", "error", "running"] | None = None
    traceId: str | None = None
    name: str | None = None
    startedAt: _Range | None = None
    dateRange: _Range | None = None
    field: Literal["startedAt", "endedAt"] = "startedAt"
    direction: Literal["ASC", "DESC", "asc", "desc"] = "DESC"


_NESTED = ("filters", "pagination", "orderBy")
_JSON_FIELDS = ("startedAt", "dateRange")


def _bad(field: str, message: str) -> BadRequest:
    return BadRequest([Issue(field=field, message=message, path=f"$.{field}")], "Invalid query")


def _flatten(request: Request) -> dict[str, Any]:
    """The query parameters as one object: the JSON objects ``filters``, ``pagination``
    and ``orderBy`` (or their bracketed keys, ``filters[entityId]``) spread into it."""
    flat: dict[str, Any] = {}
    for key, value in request.query_params.items():
        if key in _NESTED or key in _JSON_FIELDS:
            try:
                decoded = msgspec.json.decode(value)
            except msgspec.DecodeError:
                raise _bad(key, "expected a JSON object") from None
            if key in _JSON_FIELDS:
                flat[key] = decoded
            elif isinstance(decoded, dict):
                flat.update(decoded)
            else:
                raise _bad(key, "expected a JSON object")
        elif "[" in key and key.endswith("]"):
            flat[key[key.index("[") + 1 : -1]] = value
        else:
            flat[key] = value
    return flat


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def trace_filter(request: Request) -> TraceFilter:
    """The query of a trace list; raises ``BadRequest`` naming a bad parameter."""
    try:
        query = msgspec.convert(_flatten(request), _Query, strict=False)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$.")
        raise _bad(where.rstrip("`") or "query", message) from None
    if query.page < 0:
        raise _bad("page", "must be 0 or more")
    if not 1 <= query.perPage <= _MAX_PER_PAGE:
        raise _bad("perPage", f"must be between 1 and {_MAX_PER_PAGE}")
    window = query.startedAt or query.dateRange or _Range()
    return TraceFilter(
        page=query.page,
        per_page=query.perPage,
        entity_type=query.entityType,
        entity_id=query.entityId,
        entity_name=query.entityName,
        span_type=query.spanType,
        status=query.status,
        trace_id=query.traceId,
        name=query.name,
        started_from=_utc(window.start),
        started_to=_utc(window.end),
        order_by=query.field,
        descending=query.direction.upper() == "DESC",
    )


class _TimeRange(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime | None = msgspec.field(default=None, name="from")
    end: datetime | None = msgspec.field(default=None, name="to")


class _Order(msgspec.Struct, frozen=True, kw_only=True):
    field: Literal["startedAt", "endedAt"] = "startedAt"
    direction: Literal["ASC", "DESC", "asc", "desc"] = "desc"


class _Cursor(msgspec.Struct, frozen=True, kw_only=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=_MAX_PER_PAGE)] = 25
    after: str | None = None


class _TraceQuery(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/observability/traces/query`` (the cursor form Studio's list uses)."""

    timeRange: _TimeRange = _TimeRange()
    orderBy: list[_Order] = []
    page: _Cursor = _Cursor()


def _observability(request: Request) -> ActorRef | None:
    return AppContext.of(request).rt.lookup("observability", kind="observability")


async def _page(request: Request, lightweight: bool) -> Response:
    query = trace_filter(request)
    ref = _observability(request)
    page = TracePage(total=0, roots=[])
    if ref is not None:
        page = await ref.ask(ListTraces(query))
    roots = page.roots
    if lightweight:
        roots = [{**light(root), "status": root["status"]} for root in roots]
    more = (query.page + 1) * query.per_page < page.total
    pagination = {
        "total": page.total,
        "page": query.page,
        "perPage": query.per_page,
        "hasMore": more,
    }
    return json_response({"pagination": pagination, "spans": roots})


async def list_traces(request: Request) -> Response:
    """A page of trace roots, newest first, with ``status`` (success, error, running)."""
    return await _page(request, lightweight=False)


async def list_traces_light(request: Request) -> Response:
    """A page of trace roots with only the fields a list shows."""
    return await _page(request, lightweight=True)


async def _spans(request: Request) -> list[dict[str, Any]]:
    trace_id = request.path_params["trace_id"]
    ref = _observability(request)
    spans = None if ref is None else await ref.ask(GetTrace(trace_id=trace_id))
    if spans is None:
        raise NotFound(f"Trace with ID {trace_id} not found")
    return list(spans)


async def get_trace(request: Request) -> Response:
    """Every span of a trace: ``{"traceId", "spans"}``."""
    spans = await _spans(request)
    return json_response({"traceId": request.path_params["trace_id"], "spans": spans})


async def get_trace_light(request: Request) -> Response:
    """Every span of a trace with only its timeline fields."""
    spans = [light(span) for span in await _spans(request)]
    return json_response({"traceId": request.path_params["trace_id"], "spans": spans})


async def get_span(request: Request) -> Response:
    """One span of a trace: ``{"span"}``."""
    span_id = request.path_params["span_id"]
    for span in await _spans(request):
        if span["spanId"] == span_id:
            return json_response({"span": span})
    raise NotFound(f"Span with ID {span_id} not found")


def _query_row(root: dict[str, Any]) -> dict[str, Any]:
    keys = ("traceId", "parentSpanId", "name", "createdAt", "metadata", "entityId")
    row = {key: root.get(key) for key in keys}
    row.update(
        rootSpanId=root["spanId"],
        inputPreview=None,
        entityName=root.get("entityName"),
        entityType=root.get("entityType"),
        threadId=None,
        resourceId=None,
        environment=None,
        status=root["status"],
        startedAt=root.get("startedAt"),
        endedAt=root.get("endedAt"),
    )
    return row


async def query_traces(request: Request) -> Response:
    """Trace rows started within ``timeRange``, ``page.limit`` at a time after the cursor
    ``page.after``: ``{"traces": [...], "page": {"next": cursor | null}}``."""
    body = await decode_body(request, _TraceQuery)
    after = body.page.after or "0"
    if not after.isdigit() or int(after) % body.page.limit:
        raise BadRequest([Issue(field="page.after", message="unknown cursor", path="$.page.after")])
    order = body.orderBy[0] if body.orderBy else _Order()
    query = TraceFilter(
        page=int(after) // body.page.limit,
        per_page=body.page.limit,
        started_from=_utc(body.timeRange.start),
        started_to=_utc(body.timeRange.end),
        order_by=order.field,
        descending=order.direction.upper() == "DESC",
    )
    ref = _observability(request)
    page = TracePage(total=0, roots=[]) if ref is None else await ref.ask(ListTraces(query))
    end = int(after) + len(page.roots)
    following = str(end) if end < page.total else None
    rows = [_query_row(root) for root in page.roots]
    return json_response({"traces": rows, "page": {"next": following, "limit": body.page.limit}})


def routes() -> list[Route]:
    """The observability routes."""
    base = "/api/observability/traces"
    return [
        Route(base, list_traces, methods=["GET"]),
        Route(f"{base}/query", query_traces, methods=["POST"]),
        Route(f"{base}/light", list_traces_light, methods=["GET"]),
        Route(f"{base}/{{trace_id}}", get_trace, methods=["GET"]),
        Route(f"{base}/{{trace_id}}/light", get_trace_light, methods=["GET"]),
        Route(f"{base}/{{trace_id}}/spans/{{span_id}}", get_span, methods=["GET"]),
    ]
