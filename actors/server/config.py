"""The HTTP server's configuration (the ``options`` of its ``[[actors]]`` entry)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["TokenScope", "ServerConfig", "TokenConfig"]


TokenScope = Literal["agents", "tools", "workflows", "vectors"]


class TokenConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bearer token and what it may use: agent, tool, workflow and vector store names
    (``"*"``, the default, for all of a kind). A scoped token sees only its own names in
    listings; memory routes need ``?agentId=`` naming one of its agents."""

    token: str
    agents: list[str] = msgspec.field(default_factory=lambda: ["*"])
    tools: list[str] = msgspec.field(default_factory=lambda: ["*"])
    workflows: list[str] = msgspec.field(default_factory=lambda: ["*"])
    vectors: list[str] = msgspec.field(default_factory=lambda: ["*"])

    def allows(self, scope: TokenScope, name: str) -> bool:
        """Whether this token may use ``name`` of the kind ``scope``."""
        names: list[str] = getattr(self, scope)
        return "*" in names or name in names

    def allows_agent(self, agent_id: str) -> bool:
        """Whether this token may call the agent ``agent_id``."""
        return self.allows("agents", agent_id)

    def unrestricted(self, scope: TokenScope) -> bool:
        """Whether this token may use every name of the kind ``scope``."""
        return "*" in getattr(self, scope)


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where to listen and how to guard ``/api``.

    With no ``tokens`` the API is open; otherwise every ``/api`` request needs
    ``Authorization: Bearer <token>`` (401 without, 403 for an agent, tool, workflow or
    vector store the token may not use).
    """

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 4111
    tokens: list[TokenConfig] = []
    cors_origins: list[str] = msgspec.field(default_factory=lambda: ["*"])
    body_limit: Annotated[int, msgspec.Meta(ge=1)] = 4 * 1024 * 1024
    grace: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    """Seconds in-flight requests get to finish after a stop; then they are cancelled. The
    runtime's supervision ``grace`` bounds the whole stop too, so keep it the larger."""
    idle_timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    """Seconds a connection may sit idle, or take to send a request's head, before it is
    closed (a client that sends half a request line holds nothing for longer)."""
    health_max_restarts: Annotated[int, msgspec.Meta(ge=0)] = 3
    """``/health`` answers 503 for an actor restarted more often than this in a minute."""
    memory_store: str = "store"
    """The SQLite store actor whose threads the memory routes serve."""
    log_buffer: Annotated[int, msgspec.Meta(ge=0)] = 1000
    """Log records kept in memory for ``/api/logs`` (the newest; 0 keeps none)."""
    gc_threshold: Annotated[int, msgspec.Meta(ge=0)] = 50_000
    """Allocations between two collections of Python's youngest GC generation while the
    server serves (Python's default, 700, makes the collector's pauses a large part of the
    slowest requests under load); 0 leaves Python's setting alone."""
    studio_dir: str = ""
    """An unpacked Mastra Studio (``dist/studio`` of the ``mastra`` npm package) to serve at
    ``/`` on the API's port; empty serves none. ``mastra studio`` fetches one and sets it."""
