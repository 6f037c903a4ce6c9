"""Agents and tools used directly as steps (Mastra's ``createStep(agent | tool)``)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import trio

from actors.agent import Agent
from actors.demo import Sum, add
from actors.llm import ScriptedConfig, ScriptedTurn, ScriptRule, spawn_provider
from actors.tools import ToolContext, tool
from actors.workflow import (
    AgentInput,
    AgentOutput,
    Workflow,
    WorkflowDefinitionError,
    agent_step,
)
from runtime import Mastra


class Question(msgspec.Struct):
    question: str


class Person(msgspec.Struct):
    name: str
    age: int


ECHO = Agent(name="echo", instructions="You echo.", model="scripted", tools=[add])


@tool(id="shout")
async def shout(word: str) -> str:
    """Upper-cases a word; fails on an empty one."""
    await trio.lowlevel.checkpoint()
    if not word:
        raise ValueError("nothing to shout")
    return word.upper()


@tool(id="shout")
def served_shout(word: str, ctx: ToolContext) -> str:
    """The ``shout`` tool as its running actor serves it (tells itself apart)."""
    return f"{word.upper()} from {ctx.tool_id}"


def _prompt(ctx: Any) -> dict[str, str]:
    return {"prompt": ctx.input_data["question"]}


async def test_an_agent_takes_a_prompt_and_outputs_text(rt: Mastra) -> None:
    await spawn_provider(rt, "scripted", ScriptedConfig())
    await rt.spawn(ECHO)
    flow = Workflow("ask", Question, AgentOutput).map(_prompt, output_schema=AgentInput)
    wf = await rt.spawn(flow.then(ECHO).commit())
    echoed = await wf.start({"question": "hello there"})
    assert echoed.status == "success" and echoed.result == {"text": "Echo: hello there"}
    assert echoed.steps["echo"].payload == {"prompt": "hello there"}
    with_tool = await wf.start({"question": "add 2 and 40"})
    assert with_tool.result == {"text": "The sum is 42."}


async def test_an_agent_ref_and_structured_output(rt: Mastra) -> None:
    turn = ScriptedTurn(structured={"name": "Ada", "age": 36})
    await spawn_provider(rt, "json", ScriptedConfig(rules=[ScriptRule(turns=[turn])], builtin=None))
    ref = await rt.spawn(Agent(name="extract", instructions="Extract.", model="json"))
    flow = Workflow("extract", AgentInput, Person).then(agent_step(ref, output=Person)).commit()
    result = await (await rt.spawn(flow)).start({"prompt": "Ada is 36"})
    assert result.status == "success" and result.result == {"name": "Ada", "age": 36}


async def test_an_agent_that_is_not_running_fails_the_step_naming_it(rt: Mastra) -> None:
    wf = await rt.spawn(Workflow("w", AgentInput, AgentOutput).then(ECHO).commit())
    result = await wf.start({"prompt": "hi"})
    assert result.status == "failed"
    assert "no agent named 'echo' is running" in (result.steps["echo"].error or "")


async def test_a_tool_takes_its_input_schema_and_outputs_its_output(rt: Mastra) -> None:
    flow = Workflow("sum", add.input_type, Sum).then(add).commit()
    result = await (await rt.spawn(flow)).start({"a": 2, "b": 40})
    assert result.status == "success" and result.result == {"sum": 42}
    assert result.steps["add"].output == {"sum": 42}
    bad = await (await rt.spawn(Workflow("sum2", Any, Sum).then(add).commit())).start({"a": "x"})
    assert bad.status == "failed" and "Expected `float`" in (bad.error or "")


async def test_a_tool_error_fails_the_step_and_a_running_tool_actor_is_used(rt: Mastra) -> None:
    wf = await rt.spawn(Workflow("shout", shout.input_type, str).then(shout).commit())
    assert (await wf.start({"word": "hey"})).result == "HEY"  # runs in the step
    failed = await wf.start({"word": ""})
    assert failed.status == "failed" and "nothing to shout" in (failed.steps["shout"].error or "")
    await rt.spawn(served_shout)
    assert (await wf.start({"word": "ho"})).result == "HO from shout"


def test_schemas_are_checked_and_other_objects_refused() -> None:
    with pytest.raises(WorkflowDefinitionError, match=r"step 'echo' input .*`\$\.prompt`"):
        Workflow("w", Question, Any).then(ECHO).commit()
    with pytest.raises(WorkflowDefinitionError, match="cannot use int"):
        Workflow("w", Question, Any).then(42)  # type: ignore[arg-type]
    step = agent_step(ECHO, id="writer", retries=2)
    assert (step.id, step.retries, step.input_schema) == ("writer", 2, AgentInput)
