"""An agent runs a sync ``blocking=False`` tool in its own task: same results, errors the
model reads, the same ``execute_tool`` spans, and no message to the tool actor."""

from __future__ import annotations

import dataclasses
from typing import Any

from opentelemetry.trace import StatusCode

from actors.agent import Agent
from actors.llm import ScriptedConfig, ScriptedToolCall, ScriptedTurn, ScriptRule, spawn_provider
from actors.llm.messages import ToolMessage
from actors.tools import Tool, ToolResult, tool
from runtime.testing import TestRuntime


@tool(id="halve", blocking=False)
def halve(x: float) -> float:
    """Halves a number; fails for 13.

    Args:
        x: the number
    """
    if x == 13:
        raise ValueError("unlucky")
    return x / 2


@dataclasses.dataclass(frozen=True, eq=False)
class Exploding(Tool):
    """A tool whose every call crashes its runner (as a bug in the runner would)."""

    async def call(self, args: Any, **options: Any) -> ToolResult:
        raise RuntimeError("runner blew up")


def _model(*calls: str) -> ScriptedConfig:
    turns = [
        ScriptedTurn(tool_calls=[ScriptedToolCall(name=c.split(" ")[0], arguments=c.split(" ")[1])])
        for c in calls
    ]
    return ScriptedConfig(
        rules=[ScriptRule(turns=[*turns, ScriptedTurn(text="done")])], builtin=None
    )


def _handled(t: TestRuntime, name: str) -> int:
    stats = t.rt.stats(kind="tool")[name]
    return stats.handled + stats.failed


async def test_an_inline_tool_answers_without_a_message_to_its_actor(t: TestRuntime) -> None:
    await spawn_provider(t.rt, "m1", _model('halve {"x":8}'))
    agent = await t.rt.spawn(Agent(name="a1", instructions="", model="m1", tools=[halve]))
    result = await agent.generate("halve 8")
    (outcome,) = result.tool_results
    assert outcome.ok and outcome.result == 4.0
    assert result.text == "done"
    assert _handled(t, "halve") == 0
    (span,) = [s for s in t.spans.finished() if s.name == "execute_tool halve"]
    assert span.status.status_code != StatusCode.ERROR


async def test_inline_failures_are_results_the_model_reads(t: TestRuntime) -> None:
    await spawn_provider(t.rt, "m2", _model('halve {"x":"eight"}', 'halve {"x":13}'))
    agent = await t.rt.spawn(Agent(name="a2", instructions="", model="m2", tools=[halve]))
    result = await agent.generate("halve things")
    invalid, failed = result.tool_results
    assert not invalid.ok and invalid.error is not None
    assert invalid.error.startswith("Tool input validation failed for halve.")
    assert not failed.ok and failed.error == "Tool halve failed: ValueError: unlucky"
    read = [m for m in result.messages if isinstance(m, ToolMessage)]
    assert [(m.is_error, m.content) for m in read] == [(True, invalid.error), (True, failed.error)]
    assert result.text == "done"
    spans = [s for s in t.spans.finished() if s.name == "execute_tool halve"]
    assert [s.status.status_code for s in spans] == [StatusCode.ERROR, StatusCode.ERROR]
    assert _handled(t, "halve") == 0


async def test_a_crash_of_an_inline_tool_is_an_unavailable_result(t: TestRuntime) -> None:
    fields = {f.name: getattr(halve, f.name) for f in dataclasses.fields(halve) if f.init}
    boom = Exploding(**{**fields, "id": "boom"})
    assert boom.inline
    await spawn_provider(t.rt, "m3", _model('boom {"x":1}'))
    agent = await t.rt.spawn(Agent(name="a3", instructions="", model="m3", tools=[boom]))
    result = await agent.generate("explode")
    (outcome,) = result.tool_results
    assert not outcome.ok and outcome.error == (
        "Tool boom is unavailable: actor 'boom' crashed handling ExecuteTool: "
        "RuntimeError('runner blew up')"
    )
    assert result.text == "done" and result.finish_reason == "stop"
    assert t.rt.stats(kind="tool")["boom"].restarts == 0


async def test_a_tool_actor_spawned_elsewhere_is_inlined_when_it_runs_the_same_tool(
    t: TestRuntime,
) -> None:
    await t.rt.spawn(halve)
    await spawn_provider(t.rt, "m4", _model('halve {"x":2}'))
    agent = await t.rt.spawn(Agent(name="a4", instructions="", model="m4", tools=[halve]))
    handled = _handled(t, "halve")  # the agent asked the actor to describe itself
    result = await agent.generate("halve 2")
    assert result.tool_results[0].result == 1.0
    assert _handled(t, "halve") == handled
