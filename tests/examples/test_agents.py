from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from actors.llm import OpenAICompatConfig, RetryPolicy
from examples import extraction, memory_agent, weather_agent
from tests.fakes.fake_http import FakeReply, FakeToolCall
from tests.fakes.openai_server import FakeOpenAI, open_fake_openai

KEY_ENV = "MASTRA_TEST_AGENT_KEY"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    monkeypatch.setenv(KEY_ENV, "sk-test")
    async with open_fake_openai() as server:
        yield server


def _config(fake: FakeOpenAI) -> OpenAICompatConfig:
    return OpenAICompatConfig(
        vendor="openai",
        base_url=fake.base_url,
        api_key_env=KEY_ENV,
        model="gpt-fake",
        retry=RetryPolicy(initial_delay=0.001, max_delay=0.004, max_total_wait=2.0),
    )


async def test_weather_agent_calls_both_tools_with_the_scripted_model() -> None:
    result = await weather_agent.main("Lisbon")
    assert result.text == "In Lisbon: sunny for 2 days around 24 C."
    assert [c.tool_name for c in result.tool_calls] == ["get_weather", "get_forecast"]
    assert result.tool_results[0].result == {
        "city": "Lisbon",
        "temperature_c": 24.0,
        "conditions": "sunny",
    }


async def test_weather_agent_reports_an_unknown_city_to_the_model() -> None:
    result = await weather_agent.main("Atlantis")
    assert all(not r.ok for r in result.tool_results)
    assert "unknown city" in (result.tool_results[0].error or "")


async def test_weather_agent_with_the_fake_openai_server(fake: FakeOpenAI) -> None:
    calls = [
        FakeToolCall(name="get_weather", arguments={"city": "Oslo"}),
        FakeToolCall(name="get_forecast", arguments={"city": "Oslo", "days": 2}),
    ]
    fake.replies.extend([FakeReply(tool_calls=calls), FakeReply(text="Rain in Oslo.")])
    result = await weather_agent.main("Oslo", _config(fake))
    assert result.text == "Rain in Oslo."
    weather, forecast = (r.result for r in result.tool_results)
    assert weather["conditions"] == "rain"
    assert forecast["summary"] == "rain for 2 days around 6 C"
    assert len(fake.requests) == 2
    assert b"get_forecast" in fake.requests[1].body


async def test_memory_agent_remembers_across_three_turns() -> None:
    demo = await memory_agent.main()
    texts = [r.text for r in demo.results]
    assert texts == ["Nice to meet you.", "The sum is 42.", "Echo: Do you remember me?"]
    assert demo.working == "# User\n- Name: Ada\n"
    user = [r.content["content"] for r in demo.stored if r.role == "user"]
    assert user == memory_agent.TURNS
    assert len(demo.stored) == 4 + 4 + 2


async def test_memory_agent_with_the_fake_openai_server(fake: FakeOpenAI) -> None:
    remember = FakeToolCall(name="updateWorkingMemory", arguments={"memory": "- Name: Ada"})
    add = FakeToolCall(name="add", arguments={"a": 2, "b": 40})
    fake.replies.extend(
        [
            FakeReply(tool_calls=[remember]),
            FakeReply(text="Hello Ada."),
            FakeReply(tool_calls=[add]),
            FakeReply(text="42."),
        ]
    )
    demo = await memory_agent.main(_config(fake))
    assert [r.text for r in demo.results][:2] == ["Hello Ada.", "42."]
    assert demo.working == "- Name: Ada"
    last = fake.requests[-1].json()
    sent = [m.get("content") for m in last["messages"]]
    assert "Hi, my name is Ada." in sent and "please add 2 and 40" in sent
    assert "- Name: Ada" in sent[0]


async def test_extraction_with_the_scripted_model() -> None:
    contact = await extraction.main()
    assert contact == extraction.Contact(name="Ada Lovelace", email="ada@example.com")


async def test_extraction_with_the_fake_openai_server(fake: FakeOpenAI) -> None:
    fake.replies.extend(
        [
            FakeReply(text='{"name": "Grace"}'),
            FakeReply(text='{"name": "Grace Hopper", "email": "grace@navy.mil"}'),
        ]
    )
    contact = await extraction.main("Grace Hopper, grace@navy.mil", _config(fake))
    assert contact == extraction.Contact(name="Grace Hopper", email="grace@navy.mil")
    repair = fake.requests[1].json()["messages"][-1]["content"]
    assert "$.email: required" in repair
