"""The HTTP server actor: our HTTP/1.1 server on Trio, serving the Mastra-compatible API."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

import msgspec
import trio

from actors.logs import LogTransport
from actors.server._app import build_app
from actors.server._context import AppContext
from actors.server._http11 import HttpServer, listen
from actors.server.config import ServerConfig
from runtime import Actor, ConfigError, UnhandledMessage

__all__ = ["GetAddress", "Server"]

log = logging.getLogger("actors.server")


class GetAddress(msgspec.Struct, frozen=True, tag=True):
    """Ask the server for its bound URL (useful with ``port = 0``)."""


def _workers() -> int:
    """How many processes serve this config (``serve --workers N`` sets ``MASTRA_WORKERS``)."""
    try:
        return int(os.environ.get("MASTRA_WORKERS", "1"))
    except ValueError:
        return 1


class Server(Actor):
    """Serves HTTP while it runs; spawn it from config with ``factory =
    "actors.server:Server"`` and ``options`` holding a ``ServerConfig``.

    ``on_start`` returns once the socket is bound (so ``spawn`` fails if the port is taken).
    On stop it stops accepting, lets in-flight requests finish within ``grace`` seconds,
    then cancels what is left. While it serves, a ``LogTransport`` on the root logger keeps
    the last ``log_buffer`` records for ``/api/logs``; it is removed on stop.
    """

    uses_nursery = True

    def __init__(self, config: ServerConfig | None = None, **options: Any) -> None:
        self.address = ""
        self.logs: LogTransport | None = None
        self._app: Any = None
        self._shutdown = trio.Event()
        self._finished = trio.Event()
        if config is not None:
            self.config = config
            return
        try:
            self.config = msgspec.convert(options, ServerConfig, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"server options: {exc}") from None

    async def on_start(self) -> None:
        if self.config.log_buffer:
            self.logs = LogTransport(capacity=self.config.log_buffer)
        ctx = AppContext(rt=self.ctx.runtime, config=self.config, logs=self.logs)
        app = self._app = build_app(ctx, self.ctx.tracer)
        config = self.config
        listener = await listen(config.host, config.port, shared=_workers() > 1)
        http = HttpServer(app, idle_timeout=config.idle_timeout, grace=config.grace)
        address: str = await self.ctx.nursery.start(self._serve, http, listener)
        self.address = address
        if self.logs is not None:  # fed by every logger while the server serves
            logging.getLogger().addHandler(self.logs)
        # What the runtime made to start up lives as long as it does: the collector's full
        # passes need not walk it again during a burst of requests (tail latency).
        gc.freeze()
        if self.config.gc_threshold:
            _, older, oldest = gc.get_threshold()
            gc.set_threshold(self.config.gc_threshold, older, oldest)
        log.info("serving HTTP on %s", self.address)

    async def _serve(
        self,
        http: HttpServer,
        listener: trio.SocketListener,
        *,
        task_status: trio.TaskStatus[str],
    ) -> None:
        try:
            await http.serve(listener, self._shutdown, task_status=task_status)
        finally:
            self._finished.set()

    async def on_stop(self) -> None:
        try:
            if self.address:  # else it never started serving
                self._shutdown.set()
                studio = getattr(self._app.state, "studio", None)
                if studio is not None:
                    studio.stopping.set()  # ends the pages' refresh streams, never ending alone
                await self._finished.wait()
                log.info("HTTP server on %s stopped", self.address)
        finally:
            if self.logs is not None:
                logging.getLogger().removeHandler(self.logs)

    async def receive(self, msg: GetAddress) -> str:
        match msg:
            case GetAddress():
                return self.address
        raise UnhandledMessage(f"server does not handle {type(msg).__name__}")
