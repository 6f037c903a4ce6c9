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
    agents,
    memory,
    observability,
    studio,
    system,
    tools,
    vectors,
    workflow_streams,
    workflows,
)

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


async def _bad_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    issues: list[dict[str, Any]] = [
        {"field": i.field, "message": i.message, "path": i.path} for i in exc.issues
    ]
    return json_response({"error": exc.error, "issues": issues}, status=400)


async def _not_found(_: Request, exc: Exception) -> Response:
    return json_response({"error": str(exc)}, status=404)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
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


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return json_response({"error": "Internal server error"}, status=500)


def route_table() -> list[BaseRoute]:
    """Every route of the API."""
    return [
        Route("/health", health, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *system.routes(),
        *agents.routes(),
        *memory.routes(),
        *tools.routes(),
        *workflows.routes(),
        *workflow_streams.routes(),
        *vectors.routes(),
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
            Exception: _server_error,
        },
    )
    app.state.ctx = ctx
    if config.studio_dir:
        studio.install(app, config.studio_dir)
    return app
