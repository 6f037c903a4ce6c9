"""The ASGI application: routes, error mapping and the middleware stack."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from actors.server._context import AppContext
from actors.server._http import BadRequest, NotFound, json_response
from actors.server._middleware import AuthMiddleware, BodyLimitMiddleware, TracingMiddleware
from actors.server._openapi import openapi_document
from actors.server.routes import (
    agent_socket,
    agents,
    logs,
    mcp,
    memory,
    observability,
    openai_api,
    studio,
    system,
    tools,
    vectors,
    workflow_streams,
    workflows,
)
from actors.stores import StoreUnavailable

__all__ = ["build_app"]

log = logging.getLogger("actors.server")


async def health(request: Request) -> Response:
    """``{"success": true}`` while every actor runs; 503 naming the failing actors when one
    is down or restarting, or restarted more than ``health_max_restarts`` times within the
    last minute (it may be running at this instant, but it keeps falling over)."""
    ctx = AppContext.of(request)
    limit = ctx.config.health_max_restarts
    failing = [
        {"name": s.name, "kind": s.kind, "status": s.status, "recentRestarts": s.recent_restarts}
        for s in ctx.rt.stats().values()
        if s.status != "running" or s.recent_restarts > limit
    ]
    if failing:
        return json_response({"success": False, "failing": failing}, status=503)
    return json_response({"success": True})


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 document of this server."""
    return json_response(openapi_document(request.app.routes))


def _is_openai(request: Request) -> bool:
    """Whether the request came to the OpenAI-compatible routes (OpenAI's error shape)."""
    return request.url.path.startswith("/v1/")


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    if _is_openai(request):
        issue = exc.issues[0]
        if issue.field == "body":
            return openai_api.openai_error(400, f"Invalid JSON body: {issue.message}")
        param = issue.path.removeprefix("$.")  # messages[0].role, as OpenAI names it
        message = f"Invalid value for '{param}': {issue.message}"
        return openai_api.openai_error(400, message, param=param)
    issues: list[dict[str, Any]] = [
        {"field": i.field, "message": i.message, "path": i.path} for i in exc.issues
    ]
    return json_response({"error": exc.error, "issues": issues}, status=400)


async def _not_found(request: Request, exc: Exception) -> Response:
    if _is_openai(request):
        return openai_api.openai_error(404, str(exc))
    return json_response({"error": str(exc)}, status=404)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_openai(request):
        return openai_api.openai_error(exc.status_code, exc.detail)
    if exc.status_code == 404:
        return PlainTextResponse("404 Not Found", status_code=404)
    return json_response({"error": exc.detail}, status=exc.status_code)


async def _client_gone(request: Request, _: Exception) -> Response:
    """The client closed the connection before its request was read: nothing was done,
    and the answer goes nowhere."""
    log.info(
        "%s %s: the client disconnected before sending its body", request.method, request.url.path
    )
    return Response(status_code=499)


async def _store_down(request: Request, exc: BaseException) -> Response:
    """The database is unreachable or failed a commit: nothing was written, try later."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return json_response({"error": f"Store unavailable: {exc}"}, status=503)


async def _server_error(request: Request, exc: Exception) -> Response:
    cause: BaseException | None = exc
    while cause is not None:  # an actor that failed because its store is down
        if isinstance(cause, StoreUnavailable):
            return await _store_down(request, cause)
        cause = cause.__cause__
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    if _is_openai(request):
        return openai_api.openai_error(500, "Internal server error")
    return json_response({"error": "Internal server error"}, status=500)


def route_table() -> list[BaseRoute]:
    """Every route of the API."""
    return [
        Route("/health", health, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *system.routes(),
        *agents.routes(),
        *agent_socket.routes(),
        *memory.routes(),
        *tools.routes(),
        *workflows.routes(),
        *workflow_streams.routes(),
        *vectors.routes(),
        *mcp.routes(),
        *logs.routes(),
        *openai_api.routes(),
        *observability.routes(),
    ]


def build_app(ctx: AppContext, tracer: Any) -> Starlette:
    """The Starlette app for one server, outermost middleware first: request span, CORS,
    auth, body limit. A layer with nothing to do (no tracing, no CORS origins, no tokens)
    is left out: each one costs every request a wrapper."""
    config = ctx.config
    middleware = []
    if not isinstance(tracer, trace.NoOpTracer):
        middleware.append(Middleware(TracingMiddleware, tracer=tracer))
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=config.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["Content-Length", "X-Requested-With"],
            )
        )
    if config.tokens:
        middleware.append(Middleware(AuthMiddleware, tokens=config.tokens))
    middleware.append(Middleware(BodyLimitMiddleware, limit=config.body_limit))
    app = Starlette(
        routes=route_table() + (studio.routes() if config.studio_dir else []),
        middleware=middleware,
        exception_handlers={
            BadRequest: _bad_request,
            NotFound: _not_found,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            StoreUnavailable: _store_down,
            Exception: _server_error,
        },
    )
    app.state.ctx = ctx
    if config.studio_dir:
        studio.install(app, config.studio_dir)
    return app
