from __future__ import annotations

import msgspec
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.agent import (
    Agent,
    AgentChunk,
    AgentError,
    AgentFinish,
    AgentStart,
    StepFinish,
    StepResult,
    TextStreamDelta,
    ToolCallChunk,
    ToolResultChunk,
)
from actors.demo import add
from actors.llm import (
    AuthenticationError,
    ScriptedConfig,
    ScriptedToolCall,
    ScriptedTurn,
    ScriptRule,
    spawn_provider,
)
from actors.llm.messages import Usage
from actors.memory import Memory
from actors.stores.messages import GetMessages, MessageRecord
from actors.tools import tool
from runtime.testing import TestRuntime

ECHO = Agent(name="echo", instructions="You echo.", model="scripted", tools=[add])


async def _collect(agent: Agent, t: TestRuntime, text: str) -> list[AgentChunk]:
    ref = await t.rt.spawn(agent)
    async with ref.stream(text) as chunks:
        return [chunk async for chunk in chunks]


async def test_stream_chunks_in_mastra_order(t: TestRuntime) -> None:
    chunks = await _collect(ECHO, t, "please add 2 and 40")
    kinds = [c.__struct_config__.tag for c in chunks]
    assert kinds[:2] == ["start", "step-start"]
    assert kinds.index("tool-call") < kinds.index("tool-result") < kinds.index("step-finish")
    assert kinds[-1] == "finish"
    second = kinds[kinds.index("step-finish") + 1 :]
    assert second[:2] == ["step-start", "text-start"]
    assert second[-3:] == ["text-end", "step-finish", "finish"]
    assert isinstance(chunks[0], AgentStart)
    call = next(c for c in chunks if isinstance(c, ToolCallChunk))
    result = next(c for c in chunks if isinstance(c, ToolResultChunk))
    assert call.call.args == {"a": 2, "b": 40}
    assert result.result.result == {"sum": 42}
    finishes = [c for c in chunks if isinstance(c, StepFinish)]
    assert [f.is_continued for f in finishes] == [True, False]


async def test_stream_and_generate_agree(t: TestRuntime) -> None:
    ref = await t.rt.spawn(ECHO)
    generated = await ref.generate("please add 2 and 40")
    async with ref.stream("please add 2 and 40") as chunks:
        streamed = [chunk async for chunk in chunks]
    final = streamed[-1]
    assert isinstance(final, AgentFinish)
    assert final.result.text == generated.text
    assert final.result.usage == generated.usage
    deltas = "".join(c.text for c in streamed if isinstance(c, TextStreamDelta))
    assert deltas == generated.text


async def test_a_stream_can_be_iterated_without_a_block(t: TestRuntime) -> None:
    ref = await t.rt.spawn(ECHO)
    generated = await ref.generate("please add 2 and 40")
    streamed = [chunk async for chunk in ref.stream("please add 2 and 40")]
    final = streamed[-1]
    assert isinstance(final, AgentFinish)
    assert final.result.text == generated.text


async def test_text_deltas_arrive_before_the_answer_is_complete(t: TestRuntime) -> None:
    await spawn_provider(t.rt, "slow", ScriptedConfig(chunk_delay=0.05))
    ref = await t.rt.spawn(Agent(name="slow", instructions="", model="slow"))
    async with ref.stream("one two three four five six") as chunks:
        start = trio.current_time()
        async for chunk in chunks:
            if isinstance(chunk, TextStreamDelta):
                assert trio.current_time() - start < 0.2
                break


async def test_cancelled_stream_stores_a_consistent_partial_turn(t: TestRuntime) -> None:
    await spawn_provider(t.rt, "slow", ScriptedConfig(chunk_delay=0.05))
    spec = Agent(name="mem", instructions="", model="slow", memory=Memory())
    ref = await t.rt.spawn(spec)
    words = " ".join(f"w{i}" for i in range(40))
    seen = ""
    async with ref.stream(words, thread="t1", resource="u1", run_id="run-1") as chunks:
        async for chunk in chunks:
            if isinstance(chunk, TextStreamDelta):
                seen += chunk.text
                if seen.count(" ") >= 3:
                    break
    store = t.rt.lookup("store", kind="store")
    assert store is not None
    with trio.fail_after(3):
        while True:
            records: list[MessageRecord] = await store.ask(GetMessages(thread_id="t1"))
            if len(records) == 2:
                break
            await trio.sleep(0.01)
    assert [r.role for r in records] == ["user", "assistant"]
    assert records[0].content == {"role": "user", "content": words}
    partial = records[1].content["content"]
    assert partial.startswith(seen) and len(partial) < len(f"Echo: {words}")


async def test_a_failed_turn_streams_an_error_chunk_then_raises(t: TestRuntime) -> None:
    broken = ScriptRule(turns=[ScriptedTurn(error="authentication")])
    await spawn_provider(t.rt, "broken", ScriptedConfig(rules=[broken], builtin=None))
    ref = await t.rt.spawn(Agent(name="brk", instructions="", model="broken"))
    received: list[AgentChunk] = []
    with pytest.raises(AuthenticationError):
        async with ref.stream("hello") as chunks:
            async for chunk in chunks:
                received.append(chunk)
    assert isinstance(received[-1], AgentError)
    assert received[-1].kind == "AuthenticationError"
    with pytest.raises(AuthenticationError):
        await ref.generate("hello")
    assert t.rt.stats()["brk"].restarts == 0


@given(text=st.text(max_size=30), step=st.integers(0, 50), continued=st.booleans())
@settings(max_examples=40, deadline=None)
def test_chunks_round_trip_through_msgpack_and_json(text: str, step: int, continued: bool) -> None:
    record = StepResult(
        step=step, text=text, tool_calls=[], tool_results=[], finish_reason="stop", usage=Usage()
    )
    chunks: list[AgentChunk] = [
        AgentStart(run_id="r", agent=text or "a"),
        TextStreamDelta(run_id="r", id="t", text=text),
        StepFinish(run_id="r", step=record, is_continued=continued),
        AgentError(run_id="r", message=text),
    ]
    for chunk in chunks:
        for codec in (msgspec.json, msgspec.msgpack):
            assert codec.decode(codec.encode(chunk), type=AgentChunk) == chunk
    assert msgspec.json.decode(msgspec.json.encode(chunks[1]))["type"] == "text-delta"


@tool(id="sleepy")
async def sleepy(seconds: float) -> str:
    """Sleeps, then answers."""
    await trio.sleep(seconds)
    return "awake"


async def test_cancelling_during_a_tool_call_keeps_only_whole_steps(t: TestRuntime) -> None:
    first = ScriptedTurn(text="done $tool_result")
    calls = [ScriptedToolCall(name="add", arguments='{"a": 1, "b": 2}')]
    slow = [ScriptedToolCall(name="sleepy", arguments='{"seconds": 30}')]
    rule = ScriptRule(turns=[ScriptedTurn(tool_calls=calls), ScriptedTurn(tool_calls=slow), first])
    await spawn_provider(t.rt, "tools", ScriptedConfig(rules=[rule], builtin=None))
    spec = Agent(name="mem", instructions="", model="tools", tools=[add, sleepy], memory=Memory())
    ref = await t.rt.spawn(spec)
    with trio.fail_after(5):
        async with ref.stream("go", thread="t1", resource="u1", run_id="r") as chunks:
            async for chunk in chunks:
                if isinstance(chunk, ToolCallChunk) and chunk.call.tool_name == "sleepy":
                    break
        store = t.rt.lookup("store", kind="store")
        assert store is not None
        while not (records := await store.ask(GetMessages(thread_id="t1"))):
            await trio.sleep(0.01)
    assert [r.role for r in records] == ["user", "assistant", "tool"]
    assert records[1].content["tool_calls"][0]["name"] == "add"


async def test_a_failed_turn_stores_nothing_so_a_retry_stores_it_once(t: TestRuntime) -> None:
    flaky = ScriptRule(turns=[ScriptedTurn(error="authentication")])
    await spawn_provider(t.rt, "flaky", ScriptedConfig(rules=[flaky], builtin=None))
    spec = Agent(name="f", instructions="", model="flaky", memory=Memory())
    ref = await t.rt.spawn(spec)
    with pytest.raises(AuthenticationError):
        await ref.generate("hello", thread="t1", resource="u1")
    store = t.rt.lookup("store", kind="store")
    assert store is not None
    assert await store.ask(GetMessages(thread_id="t1")) == []
