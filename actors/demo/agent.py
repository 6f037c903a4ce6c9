"""The demo agent `echo` and its tool `add`, served by ``config/default.toml``."""

from __future__ import annotations

import msgspec

from actors.agent import Agent
from actors.memory import Memory
from actors.tools import tool

__all__ = ["Sum", "add", "echo"]


class Sum(msgspec.Struct, frozen=True):
    """The result of ``add``."""

    sum: float


@tool(id="add", blocking=False)  # pure arithmetic: no thread needed
def add(a: float, b: float) -> Sum:
    """Adds two numbers and returns their sum

    Args:
        a: first addend
        b: second addend
    """
    total = float(a + b)
    return Sum(sum=int(total) if total.is_integer() else total)  # 42, not 42.0, as in JSON


echo = Agent(
    name="echo",
    description="Echoes the last user message; adds numbers with the add tool",
    instructions="You echo what the user says. When asked to add two numbers, call the add tool.",
    model="scripted",
    tools=[add],
    memory=Memory(last_messages=10),
)
"""The demo agent: the offline scripted model, the ``add`` tool and memory of 10 messages."""
