"""Fixtures: the fake vendor servers on loopback and clients pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from actors.llm import (
    AnthropicClient,
    AnthropicConfig,
    OpenAICompatClient,
    OpenAICompatConfig,
    RetryPolicy,
    Timeouts,
)
from actors.llm._http import make_http_client
from tests.fakes.anthropic_server import FakeAnthropic, open_fake_anthropic
from tests.fakes.openai_server import FakeOpenAI, open_fake_openai

KEY_ENV = "MASTRA_TEST_LLM_KEY"
FAST_RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.004, max_total_wait=5.0)
TIMEOUTS = Timeouts(connect=2.0, read=5.0, total=20.0)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "sk-test-key")
    return "sk-test-key"


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with open_fake_openai() as fake:
        yield fake


@pytest.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic() as fake:
        yield fake


def openai_config(fake: FakeOpenAI, **overrides: object) -> OpenAICompatConfig:
    """A config for the fake OpenAI server with fast retries."""
    base = OpenAICompatConfig(
        vendor="openai",
        base_url=fake.base_url,
        api_key_env=KEY_ENV,
        model="gpt-fake",
        embedding_model="text-embedding-fake",
        retry=FAST_RETRY,
        timeouts=TIMEOUTS,
    )
    return msgspec.structs.replace(base, **overrides)


def anthropic_config(fake: FakeAnthropic, **overrides: object) -> AnthropicConfig:
    """A config for the fake Anthropic server with fast retries."""
    base = AnthropicConfig(
        base_url=fake.base_url,
        api_key_env=KEY_ENV,
        model="claude-fake",
        retry=FAST_RETRY,
        timeouts=TIMEOUTS,
    )
    return msgspec.structs.replace(base, **overrides)


@pytest.fixture
async def openai_client(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatClient]:
    config = openai_config(fake_openai)
    client = OpenAICompatClient(config, make_http_client(config.timeouts, 16))
    yield client
    await client.aclose()


@pytest.fixture
async def anthropic_client(fake_anthropic: FakeAnthropic) -> AsyncIterator[AnthropicClient]:
    config = anthropic_config(fake_anthropic)
    client = AnthropicClient(config, make_http_client(config.timeouts, 16))
    yield client
    await client.aclose()
