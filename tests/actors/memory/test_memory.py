from __future__ import annotations

import pytest

from actors.agent import Agent
from actors.demo import add
from actors.llm import ScriptedConfig, ScriptedToolCall, ScriptedTurn, ScriptRule
from actors.llm.messages import ChatRequest, SystemMessage, UserMessage
from actors.memory import Memory, Retention, SemanticRecall, WorkingMemory
from actors.stores.messages import GetMessages, GetWorkingMemory, MessageRecord
from actors.stores.vector_messages import Query
from runtime import ActorRef
from runtime.testing import TestRuntime
from tests.actors.memory.conftest import RecordingModel, spawn_recorder


def _store(t: TestRuntime) -> ActorRef:
    store = t.rt.lookup("store", kind="store")
    assert store is not None
    return store


def _user_texts(request: ChatRequest) -> list[str]:
    return [m.text() for m in request.messages if isinstance(m, UserMessage)]


def _system(request: ChatRequest) -> str:
    first = request.messages[0]
    assert isinstance(first, SystemMessage)
    return first.content


async def test_memory_across_turns_and_threads(t: TestRuntime) -> None:
    requests = await spawn_recorder(t)
    spec = Agent(name="m", instructions="hi", model="rec", tools=[add], memory=Memory())
    agent = await t.rt.spawn(spec)
    await agent.generate("my name is Ada", thread="t1", resource="u1")
    await agent.generate("add 2 and 3", thread="t1", resource="u1")
    third = await agent.generate("what did I say", thread="t1", resource="u1")
    assert third.text == "Echo: what did I say"
    assert _user_texts(requests[-1]) == ["my name is Ada", "add 2 and 3", "what did I say"]
    await agent.generate("fresh start", thread="t2", resource="u1")
    assert _user_texts(requests[-1]) == ["fresh start"]
    records: list[MessageRecord] = await _store(t).ask(GetMessages(thread_id="t1"))
    roles = [r.role for r in records]
    plain = ["user", "assistant"]
    with_tool = ["user", "assistant", "tool", "assistant"]
    assert roles == [*plain, *with_tool, *plain]


async def test_a_retried_turn_is_stored_once(t: TestRuntime) -> None:
    await spawn_recorder(t)
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=Memory()))
    for _ in range(3):
        await agent.generate("hello", thread="t1", resource="u1", run_id="turn-1")
    records: list[MessageRecord] = await _store(t).ask(GetMessages(thread_id="t1"))
    assert [r.id for r in records] == ["turn-1-000", "turn-1-001"]


async def test_last_messages_limits_the_history(t: TestRuntime) -> None:
    requests = await spawn_recorder(t)
    spec = Agent(name="m", instructions="", model="rec", memory=Memory(last_messages=2))
    agent = await t.rt.spawn(spec)
    for word in ("one", "two", "three"):
        await agent.generate(word, thread="t1", resource="u1")
    assert _user_texts(requests[-1]) == ["two", "three"]


async def test_semantic_recall_finds_an_old_message_by_meaning(t: TestRuntime) -> None:
    requests = await spawn_recorder(t)
    memory = Memory(last_messages=2, semantic_recall=SemanticRecall(top_k=1, message_range=0))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    said = [
        "I adopted a cat named Whiskers",
        "the weather is sunny and warm today",
        "pizza tastes great with olives",
    ]
    for text in said:
        await agent.generate(text, thread="t1", resource="u1")
    await agent.generate("what is the name of my cat", thread="t1", resource="u1")
    system = _system(requests[-1])
    assert "Whiskers" in system
    assert "sunny" not in system and "pizza" not in system.split("messages\n", 1)[1]


async def test_working_memory_updated_by_the_model_and_shown_next_turn(t: TestRuntime) -> None:
    update = ScriptedToolCall(
        name="updateWorkingMemory", arguments='{"memory": "# User\\n- Name: $name"}'
    )
    rule = ScriptRule(
        match=r"my name is (?P<name>\w+)",
        turns=[ScriptedTurn(tool_calls=[update]), ScriptedTurn(text="Hi $name.")],
    )
    requests = await spawn_recorder(t, ScriptedConfig(rules=[rule]))
    memory = Memory(working_memory=WorkingMemory(template="# User\n- Name:\n"))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    first = await agent.generate("my name is Ada", thread="t1", resource="u1")
    assert first.text == "Hi Ada."
    assert "# User\n- Name:\n" in _system(requests[0])
    assert any(d.name == "updateWorkingMemory" for d in requests[0].tools)
    await agent.generate("who am I", thread="t2", resource="u1")
    assert "- Name: Ada" in _system(requests[-1])
    stored = await _store(t).ask(GetWorkingMemory(scope="resource", id="u1"))
    assert stored == "# User\n- Name: Ada"


async def test_retention_keeps_the_last_messages(t: TestRuntime) -> None:
    await spawn_recorder(t)
    memory = Memory(retention=Retention(keep_last=4))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    for word in ("one", "two", "three", "four"):
        await agent.generate(word, thread="t1", resource="u1")
    records: list[MessageRecord] = await _store(t).ask(GetMessages(thread_id="t1"))
    assert [r.content["content"] for r in records] == [
        "three",
        "Echo: three",
        "four",
        "Echo: four",
    ]


def test_memory_options_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="top_k"):
        SemanticRecall(top_k=0)
    with pytest.raises(ValueError, match="last_messages"):
        Memory(last_messages=-1)
    with pytest.raises(ValueError, match="template"):
        WorkingMemory(template="x", schema={"type": "object"})
    with pytest.raises(ValueError, match="keep_last"):
        Retention(keep_last=-1)


async def test_resource_scoped_recall_reaches_other_threads_with_neighbours(
    t: TestRuntime,
) -> None:
    requests = await spawn_recorder(t)
    recall = SemanticRecall(top_k=1, message_range=1, scope="resource")
    memory = Memory(last_messages=2, semantic_recall=recall)
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    await agent.generate("my favourite colour is teal green", thread="old", resource="u1")
    await agent.generate("the train leaves at noon", thread="old", resource="u1")
    await agent.generate("someone else likes teal green", thread="x", resource="u2")
    await agent.generate("which colour is my favourite", thread="new", resource="u1")
    system = _system(requests[-1])
    assert "user: my favourite colour is teal green" in system
    assert "assistant: Echo: my favourite colour is teal green" in system
    assert "someone else" not in system


async def test_instructions_may_depend_on_the_request_context(t: TestRuntime) -> None:
    requests = await spawn_recorder(t)

    def instructions(context: dict[str, object]) -> str:
        return f"Answer in {context.get('language', 'English')}."

    agent = await t.rt.spawn(Agent(name="m", instructions=instructions, model="rec"))
    await agent.generate("hello", request_context={"language": "French"})
    assert _system(requests[-1]) == "Answer in French."


async def test_the_fallback_model_answers_when_the_first_is_down(t: TestRuntime) -> None:
    down = ScriptRule(turns=[ScriptedTurn(error="unavailable")])
    await t.rt.spawn(
        RecordingModel,
        ScriptedConfig(rules=[down], builtin=None),
        [],
        name="down",
        kind="provider",
    )
    await spawn_recorder(t)
    spec = Agent(name="m", instructions="", model="down", fallbacks=["rec"])
    agent = await t.rt.spawn(spec)
    result = await agent.generate("hello")
    assert result.text == "Echo: hello"


async def test_schema_working_memory_rejects_a_bad_update_the_model_then_fixes(
    t: TestRuntime,
) -> None:
    bad = ScriptedToolCall(name="updateWorkingMemory", arguments='{"memory": "{\\"age\\": 3}"}')
    good = ScriptedToolCall(
        name="updateWorkingMemory", arguments='{"memory": "{\\"name\\": \\"Ada\\"}"}'
    )
    turns = [ScriptedTurn(tool_calls=[bad]), ScriptedTurn(tool_calls=[good]), ScriptedTurn()]
    await spawn_recorder(t, ScriptedConfig(rules=[ScriptRule(turns=turns)], builtin=None))
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    memory = Memory(working_memory=WorkingMemory(schema=schema, scope="thread"))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    result = await agent.generate("remember", thread="t1", resource="u1")
    first, second = result.tool_results
    assert not first.ok and "$.name: required" in (first.error or "")
    assert second.ok
    stored = await _store(t).ask(GetWorkingMemory(scope="thread", id="t1"))
    assert stored == '{"name": "Ada"}'


async def test_retention_commits_with_the_turn_in_one_store_request(t: TestRuntime) -> None:
    await spawn_recorder(t)
    memory = Memory(retention=Retention(keep_last=2))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    await agent.generate("one", thread="t1", resource="u1")
    before = t.rt.stats()["store"].handled
    await agent.generate("two", thread="t1", resource="u1")
    assert t.rt.stats()["store"].handled == before + 2  # the history, then save and prune
    records: list[MessageRecord] = await _store(t).ask(GetMessages(thread_id="t1"))
    assert [r.content["content"] for r in records] == ["two", "Echo: two"]


async def test_retention_deletes_the_vectors_of_the_messages_it_deletes(t: TestRuntime) -> None:
    await spawn_recorder(t)
    memory = Memory(semantic_recall=SemanticRecall(top_k=8), retention=Retention(keep_last=2))
    agent = await t.rt.spawn(Agent(name="m", instructions="", model="rec", memory=memory))
    for word in ("apple", "banana", "cherry"):
        await agent.generate(word, thread="t1", resource="u1")
    vectors = t.rt.lookup("default", kind="store")
    assert vectors is not None
    hits = await vectors.ask(
        Query(index_name="memory_messages", query_vector=[1.0] * 256, top_k=20)
    )
    records: list[MessageRecord] = await _store(t).ask(GetMessages(thread_id="t1"))
    assert sorted(hit.id for hit in hits) == sorted(r.id for r in records)
    assert [r.content["content"] for r in records] == ["cherry", "Echo: cherry"]
