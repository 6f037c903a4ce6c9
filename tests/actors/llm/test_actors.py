"""Provider actors in a runtime: ask, stream, embed, typed errors, telemetry, fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from opentelemetry.sdk.metrics.export import HistogramDataPoint
from opentelemetry.trace import SpanKind

from actors.llm import (
    BadRequestError,
    FallbackConfig,
    ModelRouter,
    StreamInterrupted,
    UnavailableError,
    collect_stream,
    parse_model,
    spawn_provider,
)
from actors.llm.messages import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    StreamError,
    TextDelta,
    UsageChunk,
    UserMessage,
)
from runtime.testing import TestRuntime, open_test_runtime
from tests.actors.llm.conftest import openai_config
from tests.fakes.fake_http import FakeReply
from tests.fakes.openai_server import FakeOpenAI, open_fake_openai

HELLO = ChatRequest(messages=[UserMessage(content="hello there world")])


@pytest.fixture
async def t() -> AsyncIterator[TestRuntime]:
    async with open_test_runtime() as test_runtime:
        yield test_runtime


async def test_ask_stream_and_embed(t: TestRuntime, fake_openai: FakeOpenAI) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai))
    assert t.rt.lookup("openai", kind="provider") is ref
    result: ChatResult = await ref.ask(HELLO)
    assert result.text == "Echo: hello there world"
    async with ref.stream(HELLO) as chunks:
        seen = [chunk async for chunk in chunks]
    assert "".join(c.text for c in seen if isinstance(c, TextDelta)) == result.text
    assert isinstance(seen[-2], UsageChunk)
    assert isinstance(seen[-1], Finish)
    vectors: EmbeddingResult = await ref.ask(EmbedRequest(inputs=["a", "b"]))
    assert len(vectors.vectors) == 2


async def test_typed_errors_reach_the_caller_without_a_restart(
    t: TestRuntime, fake_openai: FakeOpenAI
) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai))
    fake_openai.replies.append(FakeReply(status=400, error_message="Unrecognized request argument"))
    with pytest.raises(BadRequestError, match="Unrecognized request argument"):
        await ref.ask(HELLO)
    fake_openai.replies.append(FakeReply(text="x y z", cut_after_events=3))
    async with ref.stream(HELLO) as chunks:
        seen: list[Any] = []
        with pytest.raises(StreamInterrupted):
            async for chunk in chunks:
                seen.append(chunk)
    assert isinstance(seen[-1], StreamError)
    assert seen[-1].delivered
    with pytest.raises(StreamInterrupted):
        fake_openai.replies.append(FakeReply(text="x y z", cut_after_events=3))
        async with ref.stream(HELLO) as chunks:
            await collect_stream(chunks)
    assert t.rt.stats()["openai"].restarts == 0
    assert (await ref.ask(HELLO)).text == "Echo: hello there world"


async def test_leaving_a_stream_early_closes_the_vendor_connection(
    t: TestRuntime, fake_openai: FakeOpenAI
) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai))
    words = " ".join(f"w{i}" for i in range(300))
    fake_openai.replies.append(
        FakeReply(text=words, split_at=list(range(60, 60000, 60)), piece_delay=0.01)
    )
    async with ref.stream(HELLO) as chunks:
        async for chunk in chunks:
            if isinstance(chunk, TextDelta):
                break
    server = fake_openai.server
    assert server is not None
    with trio.fail_after(5):
        await server.wait_until(lambda: server.closed_connections == 1)
    assert not server.requests[0].completed


async def test_chat_span_and_metrics_follow_the_genai_conventions(
    t: TestRuntime, fake_openai: FakeOpenAI
) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai))
    await ref.ask(HELLO)
    (span,) = [s for s in t.spans.finished() if s.name == "chat gpt-fake"]
    assert span.kind == SpanKind.CLIENT
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-fake"
    assert attrs["gen_ai.response.model"] == "gpt-fake"
    assert attrs["gen_ai.response.id"] == "chatcmpl-fake0001"
    assert attrs["gen_ai.usage.input_tokens"] == 11
    assert attrs["gen_ai.usage.output_tokens"] == 7
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert "gen_ai.input.messages" not in attrs
    assert "gen_ai.output.messages" not in attrs
    parent = [
        s for s in t.spans.finished() if span.parent and s.context.span_id == span.parent.span_id
    ]
    assert parent and parent[0].name.startswith("openai ")
    data = t.metrics.get_metrics_data()
    assert data is not None
    metrics = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    tokens = metrics["gen_ai.client.token.usage"].data.data_points
    by_type = {
        (p.attributes or {})["gen_ai.token.type"]: p.sum
        for p in tokens
        if isinstance(p, HistogramDataPoint)
    }
    assert by_type == {"input": 11, "output": 7}


async def test_failed_call_span_has_error_type(t: TestRuntime, fake_openai: FakeOpenAI) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai))
    fake_openai.replies.append(FakeReply(status=401))
    with pytest.raises(Exception, match="fake failure"):
        await ref.ask(HELLO)
    (span,) = [s for s in t.spans.finished() if s.name == "chat gpt-fake"]
    assert (span.attributes or {})["error.type"] == "AuthenticationError"


async def test_content_is_recorded_only_when_configured(
    t: TestRuntime, fake_openai: FakeOpenAI
) -> None:
    ref = await spawn_provider(t.rt, "openai", openai_config(fake_openai, record_content=True))
    await ref.ask(HELLO)
    (span,) = [s for s in t.spans.finished() if s.name == "chat gpt-fake"]
    attrs = dict(span.attributes or {})
    assert "hello there world" in str(attrs["gen_ai.input.messages"])
    assert "Echo: hello there world" in str(attrs["gen_ai.output.messages"])


def test_parse_model() -> None:
    assert parse_model("deepseek/deepseek-chat") == parse_model("deepseek/deepseek-chat")
    target = parse_model("groq/meta-llama/llama-4-scout")
    assert (target.provider, target.model) == ("groq", "meta-llama/llama-4-scout")
    assert parse_model("scripted").model is None
    with pytest.raises(ValueError, match="provider/model"):
        parse_model("/gpt")


@pytest.fixture
async def fake_deepseek() -> AsyncIterator[FakeOpenAI]:
    async with open_fake_openai() as fake:
        yield fake


async def spawn_pair(t: TestRuntime, deepseek: FakeOpenAI, openai: FakeOpenAI) -> Any:
    await spawn_provider(t.rt, "deepseek", openai_config(deepseek, vendor="deepseek"))
    await spawn_provider(t.rt, "openai", openai_config(openai))
    models = ["deepseek/deepseek-chat", "openai/gpt-4o-mini"]
    return await spawn_provider(t.rt, "main", FallbackConfig(models=models))


async def test_fallback_switches_vendor_when_unavailable(
    t: TestRuntime, fake_deepseek: FakeOpenAI, fake_openai: FakeOpenAI
) -> None:
    main = await spawn_pair(t, fake_deepseek, fake_openai)
    for _ in range(3):
        fake_deepseek.replies.append(FakeReply(status=503, error_message="Service Unavailable"))
    result: ChatResult = await main.ask(HELLO)
    assert (result.provider, result.model) == ("openai", "gpt-4o-mini")
    assert result.fallbacks == ["deepseek/deepseek-chat"]
    assert fake_deepseek.requests[0].json()["model"] == "deepseek-chat"
    assert len(fake_deepseek.requests) == 3
    answered = await main.ask(HELLO)
    assert (answered.provider, answered.fallbacks) == ("deepseek", [])
    for _ in range(3):
        fake_deepseek.replies.append(FakeReply(status=529))
    async with main.stream(HELLO) as chunks:
        seen = [chunk async for chunk in chunks]
    assert not any(isinstance(c, StreamError) for c in seen)
    finish = seen[-1]
    assert isinstance(finish, Finish)
    assert (finish.result.provider, finish.result.fallbacks) == (
        "openai",
        ["deepseek/deepseek-chat"],
    )


async def test_fallback_keeps_errors_the_caller_must_fix(
    t: TestRuntime, fake_deepseek: FakeOpenAI, fake_openai: FakeOpenAI
) -> None:
    main = await spawn_pair(t, fake_deepseek, fake_openai)
    fake_deepseek.replies.append(FakeReply(status=400, error_message="Invalid tool schema"))
    with pytest.raises(BadRequestError, match="Invalid tool schema"):
        await main.ask(HELLO)
    assert fake_openai.requests == []


async def test_no_fallback_once_content_was_delivered(
    t: TestRuntime, fake_deepseek: FakeOpenAI, fake_openai: FakeOpenAI
) -> None:
    main = await spawn_pair(t, fake_deepseek, fake_openai)
    fake_deepseek.replies.append(FakeReply(text="partial answer here", cut_after_events=3))
    async with main.stream(HELLO) as chunks:
        seen: list[Any] = []
        with pytest.raises(StreamInterrupted):
            async for chunk in chunks:
                seen.append(chunk)
    assert isinstance(seen[-1], StreamError)
    assert seen[-1].delivered
    assert fake_openai.requests == []


async def test_router_reports_a_missing_provider(t: TestRuntime) -> None:
    router = ModelRouter(t.rt.lookup, ["nowhere/model"])
    with pytest.raises(UnavailableError, match="no provider actor named 'nowhere'"):
        await router.chat(HELLO)
