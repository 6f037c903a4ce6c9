"""The baseline of ``bench.server``: a bare hypercorn + starlette JSON endpoint on Trio.

Prints ``http://127.0.0.1:PORT`` on its first line once bound, then serves until killed.
Given a port (``python -m bench._bare_server 8123``) it binds it with SO_REUSEPORT, so that
several of these processes share it (the ceiling of ``serve --workers``). With ``--raw``
the endpoint is a plain ASGI callable served by the runtime's own HTTP server instead:
what that server alone costs a request.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from typing import Any

import msgspec
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actors.server._http11 import HttpServer, listen


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"text": f"Echo: {body.get('messages')}"})


async def raw_echo(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """The same endpoint as a plain ASGI app (lifespan answered, every path the same)."""
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            done = event["type"] + ".complete"
            await send({"type": done})
            if event["type"] == "lifespan.shutdown":
                return
    body = b""
    more = True
    while more:
        event = await receive()
        body += event.get("body", b"")
        more = event.get("more_body", False)
    text = f"Echo: {msgspec.json.decode(body).get('messages')}"
    out = msgspec.json.encode({"text": text})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})


class _SharedPort(Config):
    def create_sockets(self) -> Any:
        self.workers = 2  # hypercorn binds with SO_REUSEPORT for several workers
        try:
            return super().create_sockets()
        finally:
            self.workers = 1


async def _serve_raw(port: int) -> None:
    listener = await listen("127.0.0.1", port, shared=bool(port))
    server = HttpServer(raw_echo, idle_timeout=5.0, grace=1.0)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(server.serve, listener, trio.Event())
        sys.stdout.write(f"{url}\n")
        sys.stdout.flush()


async def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--raw"]
    port = int(args[0]) if args else 0
    if "--raw" in sys.argv:
        await _serve_raw(port)
        return
    app = Starlette(routes=[Route("/api/agents/echo/generate", echo, methods=["POST"])])
    config = _SharedPort() if port else Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, config)
        sys.stdout.write(f"{binds[0]}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    trio.run(main)
