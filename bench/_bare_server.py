"""The baseline of ``bench.server``: a bare hypercorn + starlette JSON endpoint on Trio.

Prints ``http://127.0.0.1:PORT`` on its first line once bound, then serves until killed.
"""

from __future__ import annotations

import sys

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


async def main() -> None:
    app = Starlette(routes=[Route("/api/agents/echo/generate", echo, methods=["POST"])])
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(serve, app, config)
        sys.stdout.write(f"{binds[0]}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    trio.run(main)
