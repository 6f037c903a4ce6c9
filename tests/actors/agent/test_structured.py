from __future__ import annotations

import msgspec
import pytest

from actors.agent import Agent, StructuredOutputError, parse_structured, schema_for
from actors.llm import ScriptedConfig, ScriptedTurn, ScriptRule, spawn_provider
from runtime.testing import TestRuntime


class Person(msgspec.Struct, frozen=True):
    name: str
    age: int


async def _agent(t: TestRuntime, *rules: ScriptRule) -> Agent:
    await spawn_provider(t.rt, "json", ScriptedConfig(rules=list(rules), builtin=None))
    return Agent(name="extract", instructions="Extract.", model="json")


async def test_structured_output_into_a_struct(t: TestRuntime) -> None:
    good = ScriptedTurn(structured={"name": "Ada", "age": 36})
    spec = await _agent(t, ScriptRule(turns=[good]))
    ref = await t.rt.spawn(spec)
    result = await ref.generate("Ada is 36", output=Person)
    assert result.object == Person(name="Ada", age=36)


async def test_one_repair_attempt_fixes_a_bad_answer(t: TestRuntime) -> None:
    repair = ScriptRule(
        match="did not match", turns=[ScriptedTurn(structured={"name": "Ada", "age": 36})]
    )
    first = ScriptRule(turns=[ScriptedTurn(structured={"name": "Ada", "age": "old"})])
    ref = await t.rt.spawn(await _agent(t, repair, first))
    result = await ref.generate("Ada is 36", output=Person)
    assert result.object == Person(name="Ada", age=36)
    assert len(result.steps) == 2
    assert result.usage == result.steps[0].usage + result.steps[1].usage


async def test_a_second_bad_answer_raises_naming_the_field(t: TestRuntime) -> None:
    bad = ScriptRule(turns=[ScriptedTurn(structured={"name": "Ada"})])
    ref = await t.rt.spawn(await _agent(t, bad))
    with pytest.raises(StructuredOutputError, match=r"\$\.age: required"):
        await ref.generate("Ada is 36", output=Person)


async def test_a_json_schema_dict_is_accepted(t: TestRuntime) -> None:
    schema = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    }
    good = ScriptRule(turns=[ScriptedTurn(structured={"tags": ["a", "b"]})])
    ref = await t.rt.spawn(await _agent(t, good))
    result = await ref.generate("tag it", output=schema)
    assert result.object == {"tags": ["a", "b"]}


async def test_memory_needs_thread_and_resource(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Agent(name="plain", instructions="", model="scripted"))
    with pytest.raises(ValueError, match="resource"):
        await ref.generate("hi", thread="t1")


class Team(msgspec.Struct, frozen=True):
    lead: Person
    members: list[Person]


def test_schema_for_a_struct_is_an_object_at_the_top() -> None:
    schema = schema_for(Team)
    assert schema["type"] == "object"
    assert schema["required"] == ["lead", "members"]
    value = {"lead": {"name": "Ada", "age": 36}, "members": [{"name": "Bob", "age": "x"}]}
    with pytest.raises(StructuredOutputError, match=r"\$\.members\[0\]\.age: expected integer"):
        parse_structured(msgspec.json.encode(value).decode(), schema)
    value["members"] = []
    assert parse_structured(msgspec.json.encode(value).decode(), schema) == value
