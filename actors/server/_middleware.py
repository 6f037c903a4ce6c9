"""Pure ASGI middleware: request spans, bearer-token auth, request size limit."""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import parse_qs, unquote

import msgspec
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actors.server._openai_out import error_json
from actors.server.config import TokenConfig, TokenScope
from runtime._tracing import parse_traceparent

__all__ = ["AuthMiddleware", "BodyLimitMiddleware", "TracingMiddleware"]

_encoder = msgspec.json.Encoder()


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = _encoder.encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class TracingMiddleware:
    """One SERVER span per request (``{method} {path}``), parented by a ``traceparent``
    header when the client sends one; actor spans of the request nest under it."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parent = None
        header = _header(scope, b"traceparent")
        if header is not None and (span_ctx := parse_traceparent(header)) is not None:
            parent = trace.set_span_in_context(trace.NonRecordingSpan(span_ctx))
        name = f"{scope['method']} {scope['path']}"
        with self.tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_with_status)


_SCOPED_PATHS: tuple[tuple[re.Pattern[str], TokenScope], ...] = (
    (re.compile(r"^/api/agents/([^/]+)"), "agents"),
    (re.compile(r"^/api/tools/([^/]+)"), "tools"),
    (re.compile(r"^/api/workflows/([^/]+)"), "workflows"),
    (re.compile(r"^/api/vector/([^/]+)"), "vectors"),
)


class AuthMiddleware:
    """Bearer-token auth on ``/api`` (``/health`` stays open).

    401 without a known token (compared in constant time); 403 when the token may not use
    the agent, tool, workflow or vector store the path names, or, on a memory route, the
    agent of ``?agentId=`` (required for a token limited to some agents). The token is put
    in ``request.state.token`` for routes that filter listings or name an agent in the body.
    """

    def __init__(self, app: ASGIApp, tokens: list[TokenConfig]) -> None:
        self.app = app
        self.tokens = [(t.token.encode(), t) for t in tokens]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] not in ("http", "websocket")
            or not self.tokens
            or not path.startswith(("/api", "/v1"))
            or scope.get("method") == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization") or ""
        scheme, _, value = header.partition(" ")
        token = self._known(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            message = "Unauthorized: a valid bearer token is required"
            await _deny(scope, send, 401, _error_body(path, 401, message))
            return
        refused = _refusal(token, path, scope.get("query_string", b""))
        if refused is not None:
            await _deny(scope, send, 403, _error_body(path, 403, f"Forbidden: {refused}"))
            return
        scope.setdefault("state", {})["token"] = token
        await self.app(scope, receive, send)

    def _known(self, presented: str) -> TokenConfig | None:
        """The token's config; every known token is compared, so the time taken does not
        tell how much of a guess matched."""
        given = presented.encode()
        found = None
        for known, config in self.tokens:
            if hmac.compare_digest(known, given):
                found = config
        return found


async def _deny(scope: Scope, send: Send, status: int, body: dict[str, Any]) -> None:
    """Refuse the request: a JSON error, or for a WebSocket a close before it is accepted
    (the server answers the handshake with 403)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": body["error"]})
        return
    await _send_json(send, status, body)


def _error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """Mastra's error body, or OpenAI's on the OpenAI-compatible routes (``/v1``)."""
    if path.startswith("/v1/"):
        return error_json(status, message, code="invalid_api_key" if status == 401 else None)
    return {"error": message}


def _refusal(token: TokenConfig, path: str, query: bytes) -> str | None:
    """Why ``token`` may not use ``path``, or None when it may."""
    for pattern, kind in _SCOPED_PATHS:
        match = pattern.match(path)
        if match is not None:
            name = unquote(match.group(1))
            if not token.allows(kind, name):
                return f"this token may not use {kind[:-1]} {name}"
            return None
    if path.startswith("/api/mcp") and not all(
        token.unrestricted(kind) for kind in ("agents", "tools", "workflows")
    ):
        return "MCP offers every agent, tool and workflow; this token is limited"
    if path.startswith("/api/memory") and not token.unrestricted("agents"):
        agents = parse_qs(query.decode("latin-1")).get("agentId", [])
        if not agents:
            return "this token needs ?agentId= naming one of its agents for memory"
        if not token.allows_agent(agents[0]):
            return f"this token may not use agent {agents[0]}"
    return None


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.limit:
                await _send_json(
                    send, 413, {"error": f"Request body larger than {self.limit} bytes"}
                )
                return
            # The server holds the body to its declared length: nothing to count.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(
                    send, 413, {"error": f"Request body larger than {self.limit} bytes"}
                )
