"""What route handlers need: the runtime handle and the server's configuration."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from actors.logs import LogTransport
from actors.server.config import ServerConfig
from runtime import Mastra

__all__ = ["AppContext"]


@dataclass(frozen=True, slots=True)
class AppContext:
    """Shared by every request of one server; stored in ``app.state.ctx``."""

    rt: Mastra
    config: ServerConfig
    logs: LogTransport | None = None
    """The in-memory log transport ``/api/logs`` serves (None: the server keeps no logs)."""
    started: int = field(default_factory=lambda: int(time.time()))
    """When the server started (Unix seconds): the ``created`` time of ``/v1`` models."""

    @staticmethod
    def of(request: HTTPConnection) -> AppContext:
        """The context of the app serving ``request`` (or WebSocket)."""
        ctx: AppContext = request.app.state.ctx
        return ctx
