"""``MCPClient``: the actor that turns one MCP server into tool actors.

It starts a session actor (kind ``mcp-session``, same name) that owns the connection and a
tool actor (kind ``tool``) per tool the server lists, named ``<client>_<tool>`` as Mastra's
``MCPClient`` names them. The tools stay registered while the session restarts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from actors.mcp._session import McpSession
from actors.mcp._tool import McpToolActor
from actors.mcp.config import McpConnection, connection_from_options
from actors.mcp.messages import ListClientTools, ListMcpTools, McpToolInfo
from actors.tools import ToolRef
from runtime import Actor, ActorRef, Spawner, SupervisionConfig, UnhandledMessage

__all__ = ["MCPClient", "McpClientRef", "McpServer", "mcp_server"]

SESSION_KIND = "mcp-session"
CLIENT_KIND = "mcp"


class MCPClient(Actor):
    """Connects to one MCP server and runs its tools as tool actors.

    From config: ``factory = "actors.mcp:MCPClient"`` with ``options`` holding an
    ``McpConnection`` (``command``/``args``/``env``/``cwd``, or ``url``/``headers``/
    ``transport``). ``on_start`` returns once the server answered its tool list, so a server
    that cannot start fails the spawn with a message naming it.
    """

    # The session stands for a process or host outside this runtime that may stay down for
    # long: back off up to 30 s between reconnects and never escalate over it.
    child_supervision = SupervisionConfig(
        max_restarts=10, within=60.0, backoff_base=0.5, backoff_max=30.0
    )

    def __init__(self, config: McpConnection | None = None, **options: Any) -> None:
        self._config = config
        self._options = options
        self.tool_ids: list[str] = []

    async def on_start(self) -> None:
        name = self.ctx.name
        config = self._config or connection_from_options(name, self._options)
        session = await self.ctx.spawn(
            functools.partial(McpSession, name, config), name=name, kind=SESSION_KIND
        )
        tools: list[McpToolInfo] = await session.ask(ListMcpTools())
        for tool in tools:
            tool_id = f"{name}_{tool.name}"
            factory = functools.partial(McpToolActor, tool_id, tool, session)
            await self.ctx.spawn(factory, name=tool_id, kind="tool")
            self.tool_ids.append(tool_id)

    async def receive(self, msg: ListClientTools) -> list[str]:
        match msg:
            case ListClientTools():
                return list(self.tool_ids)
        raise UnhandledMessage(f"MCP client {self.ctx.name!r} does not handle {type(msg)}")


class McpClientRef:
    """A handle to a running ``MCPClient``."""

    __slots__ = ("lookup", "ref")

    def __init__(self, ref: ActorRef, lookup: Any) -> None:
        self.ref = ref
        self.lookup = lookup

    @property
    def name(self) -> str:
        """The client's name (the prefix of its tools' ids)."""
        return self.ref.name

    async def tools(self) -> list[ToolRef]:
        """The server's tools, as tool handles (``ActorStopped`` if the client stopped)."""
        ids: list[str] = await self.ref.ask(ListClientTools())
        found = [self.lookup(tool_id, kind="tool") for tool_id in ids]
        return [ToolRef(ref) for ref in found if ref is not None]


@dataclass(frozen=True, slots=True)
class McpServer:
    """The declarative spec of an MCP server to use: ``await rt.spawn(spec)`` starts its
    ``MCPClient`` (kind ``mcp``) and returns an ``McpClientRef``; an ``Agent`` given it in
    ``tools`` offers the model every tool of the server (starting the client when none of
    that name runs)."""

    name: str
    connection: McpConnection
    options: dict[str, Any] = field(default_factory=dict)

    async def spawn_in(self, spawner: Spawner) -> McpClientRef:
        """Start the client under ``spawner``; raises ``NameTaken`` or ``ActorCrashed``."""
        ref = await spawner.spawn(
            functools.partial(MCPClient, self.connection), name=self.name, kind=CLIENT_KIND
        )
        return McpClientRef(ref, spawner.lookup)  # type: ignore[attr-defined]

    async def attach(self, ctx: Any) -> list[ToolRef]:
        """The server's tool handles for an agent: from the running client of this name, or
        one spawned as the agent's child."""
        ref = ctx.lookup(self.name, kind=CLIENT_KIND)
        client = McpClientRef(ref, ctx.lookup) if ref is not None else await self.spawn_in(ctx)
        return await client.tools()


def mcp_server(
    name: str,
    *,
    command: str | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    transport: str = "auto",
    stderr: str = "inherit",
) -> McpServer:
    """An ``McpServer`` spec: ``command`` (stdio) or ``url`` (HTTP). Raises ``ConfigError``
    naming the bad field."""
    options: dict[str, Any] = {"transport": transport, "stderr": stderr}
    for key, value in (("command", command), ("args", args), ("env", env), ("cwd", cwd)):
        if value is not None:
            options[key] = value
    for key, value in (("url", url), ("headers", headers)):
        if value is not None:
            options[key] = value
    return McpServer(name=name, connection=connection_from_options(name, options))
