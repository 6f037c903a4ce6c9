"""Mastra Studio at ``/``: its files, ``index.html`` with the server's placeholders filled,
the single-page app's client-side routes, and the dev refresh endpoints.

Served only when the server's ``studio_dir`` names an unpacked Studio (``dist/studio`` of
the ``mastra`` npm package). Every path outside ``/api`` that is not a file of Studio
answers ``index.html`` so a reload on ``/agents/echo/chat`` works; ``/api`` paths never
do, so an unknown API route still answers 404 and a wrong method 405.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import trio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from actors.server._context import AppContext
from actors.server._http import json_response
from actors.server._sse import EventStream

__all__ = ["CONTENT_TYPES", "StudioState", "fill_index", "routes"]

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
}
_HOST = re.compile(r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$")
_limiter = trio.CapacityLimiter(4)


class StudioState:
    """Per server: Studio's directory, this server's instance id (a page that sees a new one
    after a reconnect reloads itself), the refresh broadcast and the stop signal."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.instance_id = uuid.uuid4().hex
        self.stopping = trio.Event()
        self.clients = 0
        self._refresh = trio.Event()
        self._index: str | None = None

    def refresh(self) -> int:
        """Tell every connected page to reload; returns how many are connected."""
        self._refresh.set()
        self._refresh = trio.Event()
        return self.clients

    async def index_template(self) -> str:
        """``index.html`` as shipped, read once in a worker thread."""
        if self._index is None:
            path = self.directory / "index.html"
            self._index = await trio.to_thread.run_sync(path.read_text, limiter=_limiter)
        return self._index

    async def events(self) -> AsyncGenerator[bytes, None]:
        """``connected`` (with the instance id as the event id), then ``refresh`` each time
        one is triggered, until the server stops or the client leaves."""
        self.clients += 1
        try:
            yield f"id: {self.instance_id}\ndata: connected\n\n".encode()
            while not self.stopping.is_set():
                refreshed = self._refresh
                async with trio.open_nursery() as nursery:

                    async def stop_on(event: trio.Event, scope: trio.CancelScope) -> None:
                        await event.wait()
                        scope.cancel()

                    nursery.start_soon(stop_on, refreshed, nursery.cancel_scope)
                    nursery.start_soon(stop_on, self.stopping, nursery.cancel_scope)
                if refreshed.is_set():
                    yield b"data: refresh\n\n"
        finally:
            self.clients -= 1


def _escape(value: str) -> str:
    """``value`` safe inside a single-quoted JavaScript string in an HTML ``<script>``."""
    return (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\n", "\\n")
    )


def fill_index(template: str, values: dict[str, str]) -> str:
    """Replace each ``%%NAME%%`` placeholder with its value (escaped); placeholders without
    a value become empty strings, as Mastra's own server leaves them."""

    def replace(match: re.Match[str]) -> str:
        return _escape(values.get(match.group(1), ""))

    return re.sub(r"%%(MASTRA_[A-Z_]+)%%", replace, template)


def _placeholders(request: Request, state: StudioState) -> dict[str, str]:
    config = AppContext.of(request).config
    host = request.url.hostname or config.host
    if not _HOST.match(host):
        host = config.host
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    return {
        "MASTRA_STUDIO_BASE_PATH": "",
        "MASTRA_SERVER_HOST": host,
        "MASTRA_SERVER_PORT": str(port),
        "MASTRA_SERVER_PROTOCOL": request.url.scheme,
        "MASTRA_API_PREFIX": "/api",
        "MASTRA_DEV_SERVER_INSTANCE_ID": state.instance_id,
        "MASTRA_TELEMETRY_DISABLED": "true",
        "MASTRA_HIDE_CLOUD_CTA": "true",
        "MASTRA_EXPERIMENTAL_FEATURES": "false",
        "MASTRA_TEMPLATES": "false",
        "MASTRA_AUTO_DETECT_URL": "true",
        "MASTRA_EXPERIMENTAL_UI": "false",
        "MASTRA_AGENT_SIGNALS": "false",
        "MASTRA_SIGNALS_UI": "false",
    }


def _state(request: Request) -> StudioState:
    state: StudioState = request.app.state.studio
    return state


async def _file(state: StudioState, path: str) -> Path | None:
    """The regular file at ``path`` under Studio's directory, or None (also for a path that
    leads outside it)."""

    def find() -> Path | None:
        target = (state.directory / path).resolve()
        inside = target.is_relative_to(state.directory)
        return target if inside and target.is_file() else None

    if not path or "\x00" in path:
        return None
    return await trio.to_thread.run_sync(find, limiter=_limiter)


async def studio_page(request: Request) -> Response:
    """A file of Studio, or ``index.html`` with the placeholders filled for any other path
    (the app's client-side routes); a missing file under ``assets/`` is a 404."""
    state = _state(request)
    path = request.path_params["path"]
    found = await _file(state, path) if path != "index.html" else None
    if found is not None:
        cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
        media = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
        return FileResponse(found, media_type=media, headers={"cache-control": cache})
    if path.startswith("assets/"):
        raise HTTPException(404)
    html = fill_index(await state.index_template(), _placeholders(request, state))
    return Response(html, media_type=CONTENT_TYPES[".html"], headers={"cache-control": "no-cache"})


async def refresh_events(request: Request) -> Response:
    """Server-sent events telling open Studio pages to reload (``mastra dev``)."""
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return EventStream(_state(request).events(), "text/event-stream", headers)


async def trigger_refresh(request: Request) -> Response:
    """Reload every open Studio page; ``{"success": true, "clients": n}``."""
    return json_response({"success": True, "clients": _state(request).refresh()})


async def hot_reload_status(request: Request) -> Response:
    """Whether reloading is switched off (never, here) and the server's time."""
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json_response({"disabled": False, "timestamp": now})


class _PageRoute(Route):
    """The catch-all page route: only GET and HEAD, never under ``/api`` (so unknown API
    paths keep their 404 and wrong methods their 405)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (
            scope["method"] not in {"GET", "HEAD"} or path == "/api" or path.startswith("/api/")
        ):
            return Match.NONE, {}
        return super().matches(scope)


def routes() -> list[BaseRoute]:
    """Studio's routes; put them after every API route (the page route catches the rest)."""
    return [
        Route("/refresh-events", refresh_events, methods=["GET"], include_in_schema=False),
        Route("/__refresh", trigger_refresh, methods=["POST"], include_in_schema=False),
        Route("/__hot-reload-status", hot_reload_status, methods=["GET"], include_in_schema=False),
        _PageRoute("/{path:path}", studio_page, methods=["GET"], include_in_schema=False),
    ]


def install(app: Any, directory: str) -> None:
    """Give ``app`` the state Studio's routes use."""
    app.state.studio = StudioState(Path(directory))
