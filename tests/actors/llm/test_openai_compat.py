"""The OpenAI-compatible client against the fake OpenAI server on loopback."""

from __future__ import annotations

import math
import re

import msgspec
import pytest
import trio

from actors.llm import (
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    OpenAICompatClient,
    ProtocolError,
    ProviderTimeout,
    RateLimitedError,
    RetryPolicy,
    StreamInterrupted,
    Timeouts,
    UnavailableError,
)
from actors.llm._http import make_http_client
from actors.llm.messages import (
    AssistantMessage,
    ChatRequest,
    EmbedRequest,
    Finish,
    ForceTool,
    ImagePart,
    JsonSchemaFormat,
    StreamChunk,
    StreamError,
    SystemMessage,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolDefinition,
    ToolMessage,
    Usage,
    UsageChunk,
    UserMessage,
)
from tests.actors.llm.conftest import openai_config
from tests.fakes.fake_http import FakeReply, FakeToolCall
from tests.fakes.openai_server import FakeOpenAI, expected_vector

HELLO = ChatRequest(messages=[UserMessage(content="héllo wörld")])
ADD = ToolDefinition(
    name="add",
    description="Add two numbers.",
    parameters={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
)


class Collector:
    def __init__(self) -> None:
        self.chunks: list[StreamChunk] = []

    async def __call__(self, chunk: StreamChunk) -> None:
        self.chunks.append(chunk)

    def text(self) -> str:
        return "".join(c.text for c in self.chunks if isinstance(c, TextDelta))


def client_for(fake: FakeOpenAI, **overrides: object) -> OpenAICompatClient:
    config = openai_config(fake, **overrides)
    return OpenAICompatClient(config, make_http_client(config.timeouts, 8))


async def test_chat_sends_the_openai_body_and_reads_the_answer(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    request = ChatRequest(
        messages=[
            SystemMessage(content="Be brief."),
            UserMessage(
                content=[
                    TextPart(text="What is this?"),
                    ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
                    ImagePart(url="https://example.com/cat.jpg"),
                ]
            ),
            AssistantMessage(tool_calls=[ToolCall(id="c1", name="add", arguments='{"a":1}')]),
            ToolMessage(tool_call_id="c1", name="add", content='{"sum":1}'),
        ],
        tools=[ADD],
        tool_choice=ForceTool(name="add"),
        response_format=JsonSchemaFormat(schema={"type": "object"}, name="answer"),
        temperature=0.2,
        max_tokens=64,
        stop=["END"],
        seed=7,
    )
    result = await openai_client.chat(request)
    assert result.text == "Echo: What is this?"
    assert result.usage == Usage(input_tokens=11, output_tokens=7)
    assert (result.provider, result.model, result.finish_reason) == ("openai", "gpt-fake", "stop")
    sent = fake_openai.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert sent.json() == {
        "model": "gpt-fake",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a":1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"sum":1}'},
        ],
        "tools": [{"type": "function", "function": msgspec.to_builtins(ADD)}],
        "tool_choice": {"type": "function", "function": {"name": "add"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
        },
        "temperature": 0.2,
        "max_tokens": 64,
        "stop": ["END"],
        "seed": 7,
    }


async def test_ollama_gets_no_tool_choice_and_no_key(fake_openai: FakeOpenAI) -> None:
    client = client_for(fake_openai, vendor="ollama", api_key_env=None)
    try:
        request = ChatRequest(
            messages=[UserMessage(content="hi")], tools=[ADD], tool_choice="required"
        )
        await client.chat(request)
    finally:
        await client.aclose()
    sent = fake_openai.requests[-1]
    assert "tool_choice" not in sent.json()
    assert sent.json()["tools"][0]["function"]["name"] == "add"
    assert "authorization" not in sent.headers


async def test_non_streamed_tool_calls(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(
        FakeReply(tool_calls=[FakeToolCall("add", {"a": 2, "b": 40}, id="call_1")])
    )
    result = await openai_client.chat(
        ChatRequest(messages=[UserMessage(content="add")], tools=[ADD])
    )
    assert result.tool_calls == [ToolCall(id="call_1", name="add", arguments='{"a":2,"b":40}')]
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls[0].parsed_arguments() == {"a": 2, "b": 40}


async def test_stream_delivers_text_then_usage_then_finish(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    out = Collector()
    result = await openai_client.stream(HELLO, out)
    assert [c.text for c in out.chunks if isinstance(c, TextDelta)] == ["Echo: ", "héllo ", "wörld"]
    assert isinstance(out.chunks[-2], UsageChunk)
    assert out.chunks[-2].usage == Usage(input_tokens=11, output_tokens=7)
    assert out.chunks[-1] == Finish(result=result)
    assert result.text == "Echo: héllo wörld"
    assert result.usage.total_tokens == 18
    assert fake_openai.requests[-1].json()["stream_options"] == {"include_usage": True}


async def test_without_stream_usage_no_usage_arrives(fake_openai: FakeOpenAI) -> None:
    client = client_for(fake_openai, stream_usage=False)
    try:
        out = Collector()
        result = await client.stream(HELLO, out)
    finally:
        await client.aclose()
    assert "stream_options" not in fake_openai.requests[-1].json()
    assert not any(isinstance(c, UsageChunk) for c in out.chunks)
    assert result.usage == Usage()


async def test_streamed_tool_call_arguments_are_assembled(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    calls = [
        FakeToolCall("add", {"a": 2, "b": 40}),
        FakeToolCall("add", {"a": "ünï", "b": [1, 2, 3]}),
    ]
    fake_openai.replies.append(FakeReply(tool_calls=calls, args_chunk=3))
    out = Collector()
    result = await openai_client.stream(HELLO, out)
    starts = [c for c in out.chunks if isinstance(c, ToolCallStart)]
    deltas = [c for c in out.chunks if isinstance(c, ToolCallDelta)]
    ends = [c for c in out.chunks if isinstance(c, ToolCallEnd)]
    assert [(s.index, s.name) for s in starts] == [(0, "add"), (1, "add")]
    assert len(deltas) > 6
    assert "".join(d.arguments for d in deltas if d.index == 1) == '{"a":"ünï","b":[1,2,3]}'
    assert [e.call for e in ends] == result.tool_calls
    assert [c.parsed_arguments() for c in result.tool_calls] == [a.arguments for a in calls]


@pytest.mark.parametrize("cut", [1, 7, 180, 181, 182, 250, 333])
async def test_body_split_anywhere_on_the_wire_gives_the_same_result(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient, cut: int
) -> None:
    text = "Grüße 世界 👋 done"
    fake_openai.replies.append(FakeReply(text=text))
    whole = await openai_client.stream(HELLO, Collector())
    positions = [*range(cut, 2000, 97), cut + 1, cut + 2]
    fake_openai.replies.append(FakeReply(text=text, split_at=positions, piece_delay=0.001))
    split = await openai_client.stream(HELLO, Collector())
    assert msgspec.structs.replace(split, response_id=None) == msgspec.structs.replace(
        whole, response_id=None
    )
    assert split.text == text


async def test_429_with_retry_after_ms_is_retried(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(
        FakeReply(status=429, headers={"retry-after-ms": "30"}, error_message="Rate limit reached")
    )
    start = trio.current_time()
    result = await openai_client.chat(HELLO)
    assert result.text == "Echo: héllo wörld"
    assert len(fake_openai.requests) == 2
    assert trio.current_time() - start >= 0.03


async def test_429_exhausted_is_rate_limited_with_retry_after(fake_openai: FakeOpenAI) -> None:
    client = client_for(
        fake_openai, retry=RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.002)
    )
    for _ in range(2):
        fake_openai.replies.append(FakeReply(status=429, headers={"retry-after": "0.01"}))
    try:
        with pytest.raises(RateLimitedError) as caught:
            await client.chat(HELLO)
    finally:
        await client.aclose()
    assert caught.value.retry_after == 0.01
    assert caught.value.status == 429
    assert len(fake_openai.requests) == 2


async def test_500_is_retried_then_unavailable(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    for _ in range(3):
        fake_openai.replies.append(FakeReply(status=500, error_message="The server had an error"))
    with pytest.raises(UnavailableError, match="The server had an error"):
        await openai_client.chat(HELLO)
    assert len(fake_openai.requests) == 3


async def test_x_should_retry_false_stops_retries(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(FakeReply(status=503, headers={"x-should-retry": "false"}))
    with pytest.raises(UnavailableError) as caught:
        await openai_client.chat(HELLO)
    assert not caught.value.retryable
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (FakeReply(status=401, error_message="Incorrect API key provided"), AuthenticationError),
        (
            FakeReply(status=400, error_code="context_length_exceeded", error_message="too long"),
            ContextLengthError,
        ),
        (
            FakeReply(status=400, error_code="content_filter", error_message="filtered"),
            ContentFilteredError,
        ),
        (FakeReply(status=400, error_message="Invalid 'messages[0].role'"), BadRequestError),
    ],
)
async def test_errors_are_typed_and_not_retried(
    fake_openai: FakeOpenAI,
    openai_client: OpenAICompatClient,
    reply: FakeReply,
    error: type[Exception],
) -> None:
    fake_openai.replies.append(reply)
    with pytest.raises(error, match=re.escape(reply.error_message)):
        await openai_client.chat(HELLO)
    assert len(fake_openai.requests) == 1


async def test_missing_api_key_fails_without_a_request(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(fake_openai, api_key_env="MASTRA_TEST_UNSET_KEY")
    monkeypatch.delenv("MASTRA_TEST_UNSET_KEY", raising=False)
    try:
        with pytest.raises(AuthenticationError, match="MASTRA_TEST_UNSET_KEY"):
            await client.chat(HELLO)
    finally:
        await client.aclose()
    assert fake_openai.requests == []


async def test_malformed_json_is_a_protocol_error(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(FakeReply(malformed=True))
    with pytest.raises(ProtocolError, match="malformed completion"):
        await openai_client.chat(HELLO)
    fake_openai.replies.append(FakeReply(malformed=True))
    out = Collector()
    with pytest.raises(ProtocolError):
        await openai_client.stream(HELLO, out)
    assert isinstance(out.chunks[-1], StreamError)
    assert out.chunks[-1].kind == "protocol"


async def test_slow_headers_time_out(fake_openai: FakeOpenAI) -> None:
    client = client_for(
        fake_openai,
        timeouts=Timeouts(connect=1.0, read=0.1, total=5.0),
        retry=RetryPolicy(max_retries=0),
    )
    fake_openai.replies.append(FakeReply(header_delay=1.0))
    try:
        with pytest.raises(ProviderTimeout):
            await client.chat(HELLO)
    finally:
        await client.aclose()


async def test_total_timeout_covers_retries(fake_openai: FakeOpenAI) -> None:
    client = client_for(
        fake_openai,
        timeouts=Timeouts(connect=1.0, read=5.0, total=0.2),
        retry=RetryPolicy(max_retries=5, initial_delay=0.15, max_delay=0.15),
    )
    for _ in range(5):
        fake_openai.replies.append(FakeReply(status=500))
    try:
        with pytest.raises(ProviderTimeout, match="total timeout"):
            await client.chat(HELLO)
    finally:
        await client.aclose()


async def test_stream_cut_before_content_is_retried(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(FakeReply(cut_after_events=1))
    out = Collector()
    result = await openai_client.stream(HELLO, out)
    assert result.text == "Echo: héllo wörld"
    assert out.text() == result.text
    assert len(fake_openai.requests) == 2


async def test_stream_cut_after_content_is_an_error_not_retried(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(FakeReply(text="one two three four", cut_after_events=3))
    out = Collector()
    with pytest.raises(StreamInterrupted):
        await openai_client.stream(HELLO, out)
    assert out.text() == "one two "
    last = out.chunks[-1]
    assert isinstance(last, StreamError)
    assert (last.kind, last.provider, last.delivered) == ("interrupted", "openai", True)
    assert len(fake_openai.requests) == 1


async def test_error_mid_stream_is_typed(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    fake_openai.replies.append(
        FakeReply(text="a b c d", error_after_events=3, error_message="The server is overloaded")
    )
    out = Collector()
    with pytest.raises(UnavailableError, match="overloaded"):
        await openai_client.stream(HELLO, out)
    assert out.text() == "a b "
    assert len(fake_openai.requests) == 1


async def test_cancelled_stream_closes_its_connection(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    words = " ".join(f"w{i}" for i in range(200))
    fake_openai.replies.append(
        FakeReply(text=words, split_at=list(range(50, 40000, 50)), piece_delay=0.01)
    )
    got_text = trio.Event()

    async def emit(chunk: StreamChunk) -> None:
        if isinstance(chunk, TextDelta):
            got_text.set()

    server = fake_openai.server
    assert server is not None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(openai_client.stream, HELLO, emit)
        await got_text.wait()
        assert server.closed_connections == 0
        nursery.cancel_scope.cancel()
    with trio.fail_after(5):
        await server.wait_until(lambda: server.closed_connections == 1)
    assert not server.requests[0].completed


async def test_finished_stream_keeps_its_connection(
    fake_openai: FakeOpenAI, openai_client: OpenAICompatClient
) -> None:
    for _ in range(3):
        await openai_client.stream(HELLO, Collector())
    server = fake_openai.server
    assert server is not None
    assert (server.connections, server.closed_connections) == (1, 0)


@pytest.mark.parametrize("encoding", ["float", "base64"])
async def test_embeddings_in_batches(fake_openai: FakeOpenAI, encoding: str) -> None:
    client = client_for(fake_openai, embedding_encoding=encoding, embedding_batch=2)
    texts = ["alpha", "beta gamma", "delta", "épsilon", "zeta"]
    try:
        result = await client.embed(EmbedRequest(inputs=texts, dimensions=6))
    finally:
        await client.aclose()
    assert len(fake_openai.requests) == 3
    assert {r.json()["encoding_format"] for r in fake_openai.requests} == {encoding}
    assert sorted(len(r.json()["input"]) for r in fake_openai.requests) == [1, 2, 2]
    for text, vector in zip(texts, result.vectors, strict=True):
        assert vector == pytest.approx(expected_vector(text, 6), abs=1e-6)
    assert result.usage.input_tokens == 6
    assert result.model == "text-embedding-fake"
    assert all(math.isfinite(v) for vector in result.vectors for v in vector)
