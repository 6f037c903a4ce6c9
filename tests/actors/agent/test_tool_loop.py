from __future__ import annotations

from typing import Any

import trio

from actors.agent import Agent
from actors.demo import add
from actors.llm import ScriptedConfig, ScriptedToolCall, ScriptedTurn, ScriptRule, spawn_provider
from actors.tools import ExecuteTool, tool
from runtime import Actor
from runtime.testing import TestRuntime


@tool(id="slow_a")
async def slow_a(delay: float) -> str:
    """Waits and answers a."""
    await trio.sleep(delay)
    return "a"


@tool(id="slow_b")
async def slow_b(delay: float) -> str:
    """Waits and answers b."""
    await trio.sleep(delay)
    return "b"


def _rules(*rules: ScriptRule) -> ScriptedConfig:
    return ScriptedConfig(rules=list(rules), builtin=None)


def _call(name: str, arguments: str) -> ScriptedToolCall:
    return ScriptedToolCall(name=name, arguments=arguments)


async def test_parallel_tool_calls_take_the_time_of_the_slowest(t: TestRuntime) -> None:
    both = ScriptedTurn(
        tool_calls=[_call("slow_a", '{"delay": 0.3}'), _call("slow_b", '{"delay": 0.3}')]
    )
    config = _rules(ScriptRule(turns=[both, ScriptedTurn(text="done")]))
    await spawn_provider(t.rt, "par", config)
    ref = await t.rt.spawn(Agent(name="par", instructions="", model="par", tools=[slow_a, slow_b]))
    start = trio.current_time()
    result = await ref.generate("go")
    elapsed = trio.current_time() - start
    assert [r.result for r in result.tool_results] == ["a", "b"]
    assert 0.3 <= elapsed < 0.55


async def test_a_bad_tool_call_is_corrected_on_the_next_step(t: TestRuntime) -> None:
    turns = [
        ScriptedTurn(tool_calls=[_call("add", '{"a": "two", "b": 1}')]),
        ScriptedTurn(tool_calls=[_call("add", '{"a": 2, "b": 1}')]),
        ScriptedTurn(text="done $tool_sum"),
    ]
    await spawn_provider(t.rt, "fix", _rules(ScriptRule(turns=turns)))
    ref = await t.rt.spawn(Agent(name="fix", instructions="", model="fix", tools=[add]))
    result = await ref.generate("add two and 1")
    first, second = result.tool_results
    assert not first.ok and first.error is not None and "a" in first.error
    assert "validation failed" in first.error
    assert second.ok and second.result == {"sum": 3}
    assert result.text == "done 3"
    assert len(result.steps) == 3


class CrashingTool(Actor):
    """A tool actor that crashes on every call."""

    async def receive(self, msg: Any) -> Any:
        crash = isinstance(msg, ExecuteTool)
        if crash:
            raise RuntimeError("tool process blew up")
        return None


async def test_a_crashing_tool_actor_gives_a_tool_error_not_a_hang(t: TestRuntime) -> None:
    await t.rt.spawn(CrashingTool, name="add", kind="tool")
    ref = await t.rt.spawn(Agent(name="crash", instructions="", model="scripted", tools=[add]))
    with trio.fail_after(5):
        result = await ref.generate("add 2 and 3")
    (outcome,) = result.tool_results
    assert not outcome.ok and outcome.error is not None
    assert "unavailable" in outcome.error
    assert result.finish_reason == "stop"
    with trio.fail_after(5):
        again = await ref.generate("add 2 and 3")
    assert not again.tool_results[0].ok
    assert t.rt.stats()["add"].restarts >= 1


async def test_agent_as_a_tool_of_another_agent(t: TestRuntime) -> None:
    helper = Agent(name="helper", instructions="", model="scripted", description="Echoes.")
    turns = [
        ScriptedTurn(tool_calls=[_call("helper", '{"prompt": "ping"}')]),
        ScriptedTurn(text="helper said $tool_text"),
    ]
    await spawn_provider(t.rt, "boss", _rules(ScriptRule(turns=turns)))
    boss = await t.rt.spawn(Agent(name="boss", instructions="", model="boss", tools=[helper]))
    result = await boss.generate("delegate")
    assert result.text == "helper said Echo: ping"
    assert t.rt.lookup("helper", kind="agent") is not None
    names = t.spans.names()
    assert "invoke_agent helper" in names and "execute_tool helper" in names
