"""``Agent``: the declarative spec of an agent, spawned with ``await rt.spawn(agent)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from actors.memory import Memory
from actors.tools import Tool, ToolRef

if TYPE_CHECKING:
    from actors.agent._ref import AgentRef

__all__ = ["Agent", "Instructions", "ToolSource"]


@runtime_checkable
class ToolSource(Protocol):
    """Something that provides tools only known once it runs, such as an MCP server
    (``actors.mcp.McpServer``): an agent given one offers its model every tool it attaches."""

    @property
    def name(self) -> str:
        """Its name, unique among an agent's tools."""
        ...

    async def attach(self, ctx: Any) -> list[ToolRef]:
        """The running tools, started under the agent's context ``ctx`` if need be."""
        ...


Instructions = str | Callable[[dict[str, Any]], str]
"""A system prompt, or a function of the request context that returns one."""


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent: instructions, a model (``provider/model``) with fallbacks, tools (tool specs,
    other agents, which it can delegate to, or tool sources such as MCP servers), optional
    memory and default options.

    Raises ``ValueError`` naming the field for a bad option.
    """

    name: str
    instructions: Instructions
    model: str
    fallbacks: Sequence[str] = ()
    tools: Sequence[Tool | Agent | ToolSource] = ()
    memory: Memory | None = None
    description: str = ""
    max_steps: int = 5
    temperature: float | None = None
    max_tokens: int | None = None
    tool_timeout: float | None = 60.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: must not be empty")
        if not self.model:
            raise ValueError("model: must not be empty")
        if self.max_steps <= 0:
            raise ValueError("max_steps: must be positive")
        if self.tool_timeout is not None and not self.tool_timeout > 0:
            raise ValueError(f"tool_timeout: must be positive or None, got {self.tool_timeout}")
        names = [t.id if isinstance(t, Tool) else t.name for t in self.tools]
        if len(set(names)) != len(names):
            raise ValueError(f"tools: duplicate names in {names}")

    def system_prompt(self, request_context: dict[str, Any]) -> str:
        """The instructions for one request (a callable is called with its context)."""
        if isinstance(self.instructions, str):
            return self.instructions
        return self.instructions(request_context)

    async def spawn_in(self, spawner: Any) -> AgentRef:
        """Spawn the agent actor (kind ``"agent"``) under ``spawner``; its tools are attached
        (or spawned) when it starts. Raises ``NameTaken`` when the name is in use."""
        from actors.agent._actor import AgentActor
        from actors.agent._ref import AgentRef

        ref = await spawner.spawn(AgentActor, self, name=self.name, kind="agent")
        return AgentRef(ref)
