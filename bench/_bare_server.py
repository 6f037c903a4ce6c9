"""The baseline of ``bench.server``: a bare hypercorn + starlette JSON endpoint on Trio.

Prints ``http://127.0.0.1:PORT`` on its first line once bound, then serves until killed.
Given a port (``python -m bench._bare_server 8123``) it binds it with SO_REUSEPORT, so that
several of these processes share it (the ceiling of ``serve --workers``).
"""

from __future__ import annotations

import sys
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"text": f"Echo: {body.get('messages')}"})


class _SharedPort(Config):
    def create_sockets(self) -> Any:
        self.workers = 2  # hypercorn binds with SO_REUSEPORT for several workers
        try:
            return super().create_sockets()
        finally:
            self.workers = 1


async def main() -> None:
    app = Starlette(routes=[Route("/api/agents/echo/generate", echo, methods=["POST"])])
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    config = _SharedPort() if port else Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, config)
        sys.stdout.write(f"{binds[0]}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    trio.run(main)
