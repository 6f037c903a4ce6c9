"""What route handlers need: the runtime handle and the server's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from actors.server.config import ServerConfig
from runtime import Mastra

__all__ = ["AppContext"]


@dataclass(frozen=True, slots=True)
class AppContext:
    """Shared by every request of one server; stored in ``app.state.ctx``."""

    rt: Mastra
    config: ServerConfig

    @staticmethod
    def of(request: Request) -> AppContext:
        """The context of the app serving ``request``."""
        ctx: AppContext = request.app.state.ctx
        return ctx
