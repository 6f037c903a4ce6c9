"""The HTTP server's configuration (the ``options`` of its ``[[actors]]`` entry)."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["ServerConfig", "TokenConfig"]


class TokenConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bearer token and the agents it may use (``"*"`` for all)."""

    token: str
    agents: list[str] = msgspec.field(default_factory=lambda: ["*"])

    def allows_agent(self, agent_id: str) -> bool:
        """Whether this token may call the agent ``agent_id``."""
        return "*" in self.agents or agent_id in self.agents


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where to listen and how to guard ``/api``.

    With no ``tokens`` the API is open; otherwise every ``/api`` request needs
    ``Authorization: Bearer <token>`` (401 without, 403 for an agent the token may not use).
    """

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 4111
    tokens: list[TokenConfig] = []
    cors_origins: list[str] = msgspec.field(default_factory=lambda: ["*"])
    body_limit: Annotated[int, msgspec.Meta(ge=1)] = 4 * 1024 * 1024
    grace: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    """Seconds in-flight requests get to finish after a stop; then they are cancelled. The
    runtime's supervision ``grace`` bounds the whole stop too, so keep it the larger."""
    memory_store: str = "store"
    """The SQLite store actor whose threads the memory routes serve."""
