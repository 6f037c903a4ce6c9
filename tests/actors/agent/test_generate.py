from __future__ import annotations

import dataclasses

import msgspec

from actors.agent import Agent, Generate, GenerateResult
from actors.demo import add
from actors.llm import ScriptedConfig, spawn_provider
from actors.llm.messages import AssistantMessage, ChatMessage, ToolMessage, UserMessage
from actors.memory import Memory
from actors.stores import SqliteStore
from actors.stores.messages import GetMessages
from runtime import RuntimeConfig, TelemetryConfig, open_runtime
from runtime.testing import TestRuntime

ECHO = Agent(name="echo", instructions="You echo.", model="scripted", tools=[add])


async def test_generate_plain_text(t: TestRuntime) -> None:
    agent = await t.rt.spawn(ECHO)
    result = await agent.generate("hello there")
    assert result.text == "Echo: hello there"
    assert result.finish_reason == "stop"
    assert len(result.steps) == 1
    assert result.usage.output_tokens > 0
    assert t.rt.lookup("echo", kind="agent") is agent.ref


async def test_generate_runs_the_tool_loop(t: TestRuntime) -> None:
    agent = await t.rt.spawn(ECHO)
    result = await agent.generate("please add 2 and 40")
    assert result.text == "The sum is 42."
    assert [s.finish_reason for s in result.steps] == ["tool_calls", "stop"]
    (call,) = result.tool_calls
    assert call.tool_name == "add"
    assert call.args == {"a": 2, "b": 40}
    (outcome,) = result.tool_results
    assert outcome.ok and outcome.result == {"sum": 42}
    assert result.usage == result.steps[0].usage + result.steps[1].usage
    roles = [type(m) for m in result.messages]
    assert roles == [UserMessage, AssistantMessage, ToolMessage, AssistantMessage]


async def test_max_steps_is_honoured(t: TestRuntime) -> None:
    agent = await t.rt.spawn(ECHO)
    result = await agent.generate("add 1 and 2", max_steps=1)
    assert len(result.steps) == 1
    assert result.finish_reason == "tool_calls"
    assert result.tool_results[0].result == {"sum": 3}
    assert result.text == ""


async def test_messages_round_trip(t: TestRuntime) -> None:
    agent = await t.rt.spawn(ECHO)
    result = await agent.generate("add 2 and 3")
    for codec in (msgspec.json, msgspec.msgpack):
        assert codec.decode(codec.encode(result), type=GenerateResult) == result
    message = Generate(messages=[UserMessage(content="x")], run_id="r1", max_steps=2)
    assert msgspec.json.decode(msgspec.json.encode(message), type=Generate) == message


async def test_spans_follow_genai_conventions(t: TestRuntime) -> None:
    agent = await t.rt.spawn(ECHO)
    await agent.generate("add 2 and 40")
    spans = {s.name: s for s in t.spans.finished()}
    invoke = spans["invoke_agent echo"]
    tool = spans["execute_tool add"]
    assert tool.parent is not None and tool.parent.span_id == invoke.context.span_id
    assert (tool.attributes or {})["gen_ai.tool.name"] == "add"
    attrs = dict(invoke.attributes or {})
    assert attrs["gen_ai.operation.name"] == "invoke_agent"
    tokens = attrs["gen_ai.usage.input_tokens"]
    assert isinstance(tokens, int) and tokens > 0


async def test_info_describes_the_agent(t: TestRuntime) -> None:
    helper = Agent(name="helper", instructions="Help.", model="scripted")
    spec = Agent(name="boss", instructions="Lead.", model="scripted", tools=[add, helper])
    ref = await t.rt.spawn(spec)
    info = await ref.info()
    assert info.tools == ["add", "helper"]
    assert (info.name, info.instructions, info.model, info.memory) == (
        "boss",
        "Lead.",
        "scripted",
        False,
    )


async def test_a_turn_with_tracing_off_gives_the_same_result_and_history() -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        await spawn_provider(rt, "scripted", ScriptedConfig())
        await rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        agent = await rt.spawn(dataclasses.replace(ECHO, memory=Memory(last_messages=10)))
        first = await agent.generate("please add 2 and 40", thread="t", resource="r")
        again = await agent.generate("please add 2 and 40", thread="t", resource="r")
        assert first.text == again.text == "The sum is 42."
        (outcome,) = again.tool_results
        assert outcome.ok and outcome.result == {"sum": 42}
        store = rt.lookup("store", kind="store")
        assert store is not None
        stored = await store.ask(GetMessages(thread_id="t"))
        assert [msgspec.convert(m.content, ChatMessage) for m in stored] == [
            *first.messages,
            *again.messages,
        ]
