"""AI components built on the runtime: providers, tools, agents, memory, workflows, stores.

The names users write against most are available here, loaded on first use so that
importing one component does not import them all::

    from actors import Agent, Memory, SemanticRecall, Workflow, step, tool
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.agent import Agent, AgentRef
    from actors.memory import Memory, SemanticRecall, WorkingMemory
    from actors.tools import Tool, ToolRef, tool
    from actors.workflow import Workflow, WorkflowRef, step

__all__ = [
    "Agent",
    "AgentRef",
    "Memory",
    "SemanticRecall",
    "Tool",
    "ToolRef",
    "Workflow",
    "WorkflowRef",
    "WorkingMemory",
    "step",
    "tool",
]

_HOMES = {
    "Agent": "actors.agent",
    "AgentRef": "actors.agent",
    "Memory": "actors.memory",
    "SemanticRecall": "actors.memory",
    "WorkingMemory": "actors.memory",
    "Tool": "actors.tools",
    "ToolRef": "actors.tools",
    "tool": "actors.tools",
    "Workflow": "actors.workflow",
    "WorkflowRef": "actors.workflow",
    "step": "actors.workflow",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
