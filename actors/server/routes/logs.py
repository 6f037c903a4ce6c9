"""``/api/logs``: the records of the server's in-memory log transport, as Mastra lists logs.

- ``GET /api/logs/transports`` -> ``{"transports": ["memory"]}`` (none when the server keeps
  no logs: ``log_buffer = 0``).
- ``GET /api/logs?transportId=memory`` and ``GET /api/logs/:runId?transportId=memory`` ->
  ``{logs, total, page, perPage, hasMore}``, oldest first; query ``logLevel`` (exact:
  ``debug``, ``info``, ``warn``, ``error``), ``fromDate``/``toDate`` (ISO 8601 or epoch
  milliseconds), ``filters=key:value`` (repeatable), ``page`` (from 1) and ``perPage``.
  An unknown transport lists nothing, as in Mastra. A token limited to some names of any
  kind may not read logs (403): they tell about everything the server runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.logs import LEVELS, LogQuery, empty_page
from actors.server._context import AppContext
from actors.server._http import BadRequest, Issue, json_response
from actors.server.config import TokenConfig, TokenScope

__all__ = ["routes"]


def _bad(field: str, message: str) -> BadRequest:
    return BadRequest([Issue(field=field, message=message, path=f"$.{field}")], error=message)


def _date(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    if raw.isdigit():
        return int(raw) / 1000
    try:
        return datetime.fromisoformat(raw).timestamp()
    except ValueError:
        raise _bad(name, f"{name}: expected an ISO 8601 date or epoch milliseconds") from None


def _number(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if not raw:
        return default
    if not raw.isdigit():
        raise _bad(name, f"{name}: expected a non-negative integer")
    return int(raw) or default  # 0 means the default, as in Mastra


def _filters(request: Request) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in request.query_params.getlist("filters"):
        key, colon, value = item.partition(":")
        if not key or not colon:
            raise _bad("filters", "filters: expected key:value")
        filters[key] = value
    return filters


def _query(request: Request) -> LogQuery:
    level = request.query_params.get("logLevel") or None
    if level is not None and level not in LEVELS:
        raise _bad("logLevel", f"logLevel: expected one of {', '.join(LEVELS)}")
    return LogQuery(
        level=level,
        since=_date(request, "fromDate"),
        until=_date(request, "toDate"),
        filters=_filters(request),
        page=_number(request, "page", 1),
        per_page=_number(request, "perPage", 100),
    )


def _may_read(request: Request) -> None:
    """Logs tell about every agent, tool and workflow: a token limited to some of any kind
    may not read them (403)."""
    token: TokenConfig | None = request.scope.get("state", {}).get("token")
    scopes: tuple[TokenScope, ...] = ("agents", "tools", "workflows", "vectors")
    if token is not None and not all(token.unrestricted(scope) for scope in scopes):
        raise HTTPException(403, "Forbidden: this token may not read logs")


def _page(request: Request, run_id: str | None) -> dict[str, Any]:
    _may_read(request)
    transport_id = request.query_params.get("transportId")
    if not transport_id:
        raise _bad("transportId", 'Argument "transportId" is required')
    query = _query(request)
    logs = AppContext.of(request).logs
    if logs is None or logs.transport_id != transport_id:
        return empty_page(query)
    return logs.page(query, run_id)


async def list_transports(request: Request) -> Response:
    """The log transports this server keeps."""
    _may_read(request)
    logs = AppContext.of(request).logs
    return json_response({"transports": [] if logs is None else [logs.transport_id]})


async def list_logs(request: Request) -> Response:
    """One page of a transport's log records."""
    return json_response(_page(request, None))


async def list_run_logs(request: Request) -> Response:
    """One page of a transport's log records of one run."""
    return json_response(_page(request, request.path_params["run_id"]))


def routes() -> list[Route]:
    """The log routes."""
    return [
        Route("/api/logs/transports", list_transports, methods=["GET"]),
        Route("/api/logs", list_logs, methods=["GET"]),
        Route("/api/logs/{run_id}", list_run_logs, methods=["GET"]),
    ]
