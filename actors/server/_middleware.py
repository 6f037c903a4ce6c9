"""Pure ASGI middleware: request spans, bearer-token auth, request size limit."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actors.server.config import TokenConfig
from runtime._tracing import parse_traceparent

__all__ = ["AuthMiddleware", "BodyLimitMiddleware", "TracingMiddleware"]

_AGENT_PATH = re.compile(r"^/api/agents/([^/]+)")
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


class AuthMiddleware:
    """Bearer-token auth on ``/api`` (``/health`` stays open).

    401 without a known token; 403 when the token may not use the agent in the path.
    """

    def __init__(self, app: ASGIApp, tokens: list[TokenConfig]) -> None:
        self.app = app
        self.tokens = {t.token: t for t in tokens}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.tokens
            or not path.startswith("/api")
            or scope["method"] == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization") or ""
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            await _send_json(send, 401, {"error": "Unauthorized: a valid bearer token is required"})
            return
        agent = _AGENT_PATH.match(path)
        if agent is not None and not token.allows_agent(agent.group(1)):
            await _send_json(
                send, 403, {"error": f"Forbidden: this token may not use agent {agent.group(1)}"}
            )
            return
        await self.app(scope, receive, send)


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
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_json(send, 413, {"error": f"Request body larger than {self.limit} bytes"})
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
