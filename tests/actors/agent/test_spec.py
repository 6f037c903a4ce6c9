"""A bad agent option is refused when the agent is declared, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from actors.agent import Agent
from actors.demo import add


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"name": ""}, "name"),
        ({"model": ""}, "model"),
        ({"max_steps": 0}, "max_steps"),
        ({"tool_timeout": 0}, "tool_timeout"),
        ({"tool_timeout": -1.5}, "tool_timeout"),
        ({"tool_timeout": float("nan")}, "tool_timeout"),
        ({"tools": [add, add]}, "tools"),
    ],
)
def test_bad_options_name_their_field(options: dict[str, Any], field: str) -> None:
    spec: dict[str, Any] = {"name": "a", "instructions": "i", "model": "scripted"} | options
    with pytest.raises(ValueError, match=rf"^{field}: "):
        Agent(**spec)


def test_no_tool_timeout_is_allowed() -> None:
    agent = Agent(name="a", instructions="i", model="scripted", tool_timeout=None)
    assert agent.tool_timeout is None
