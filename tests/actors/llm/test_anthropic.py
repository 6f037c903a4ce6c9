"""The Anthropic client against the fake Messages API on loopback."""

from __future__ import annotations

import pytest

from actors.llm import (
    AnthropicClient,
    BadRequestError,
    ContextLengthError,
    StreamInterrupted,
    UnavailableError,
)
from actors.llm.messages import (
    AssistantMessage,
    ChatRequest,
    EmbedRequest,
    Finish,
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
    ToolDefinition,
    ToolMessage,
    Usage,
    UserMessage,
)
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fake_http import FakeReply, FakeToolCall

HELLO = ChatRequest(messages=[SystemMessage(content="Be brief."), UserMessage(content="hi there")])
WEATHER = ToolDefinition(name="get_weather", description="Weather.", parameters={"type": "object"})


class Collector:
    def __init__(self) -> None:
        self.chunks: list[StreamChunk] = []

    async def __call__(self, chunk: StreamChunk) -> None:
        self.chunks.append(chunk)

    def text(self) -> str:
        return "".join(c.text for c in self.chunks if isinstance(c, TextDelta))


async def test_request_has_top_level_system_max_tokens_and_blocks(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    request = ChatRequest(
        messages=[
            SystemMessage(content="Be brief."),
            UserMessage(
                content=[TextPart(text="Look"), ImagePart(data="AAAA", media_type="image/jpeg")]
            ),
            AssistantMessage(
                content="Checking.",
                tool_calls=[
                    ToolCall(id="t1", name="get_weather", arguments='{"city":"Oslo"}'),
                    ToolCall(id="t2", name="get_weather", arguments='{"city":"Rome"}'),
                ],
            ),
            ToolMessage(tool_call_id="t1", content="rain"),
            ToolMessage(tool_call_id="t2", content="no such city", is_error=True),
        ],
        tools=[WEATHER],
        tool_choice="required",
        stop=["STOP"],
    )
    result = await anthropic_client.chat(request)
    assert result.text == "Echo: Look"
    sent = fake_anthropic.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-test-key"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json() == {
        "model": "claude-fake",
        "max_tokens": 4096,
        "system": "Be brief.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAAA"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                    {
                        "type": "tool_use",
                        "id": "t2",
                        "name": "get_weather",
                        "input": {"city": "Rome"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "rain"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "content": "no such city",
                        "is_error": True,
                    },
                ],
            },
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object"}}
        ],
        "tool_choice": {"type": "any"},
        "stop_sequences": ["STOP"],
    }


async def test_stream_with_ping_text_and_usage(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    out = Collector()
    result = await anthropic_client.stream(HELLO, out)
    assert out.text() == "Echo: hi there" == result.text
    assert out.chunks[-1] == Finish(result=result)
    assert result.usage == Usage(input_tokens=11, output_tokens=7)
    assert result.finish_reason == "stop"
    assert result.raw_finish_reason == "end_turn"


async def test_streamed_tool_use_json_deltas_are_assembled(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    calls = [FakeToolCall("get_weather", {"city": "Zürich", "days": [1, 2]}, id="toolu_1")]
    fake_anthropic.replies.append(FakeReply(tool_calls=calls, args_chunk=4))
    out = Collector()
    result = await anthropic_client.stream(HELLO, out)
    deltas = [c for c in out.chunks if isinstance(c, ToolCallDelta)]
    assert len(deltas) > 3
    assert result.tool_calls == [
        ToolCall(id="toolu_1", name="get_weather", arguments='{"city":"Zürich","days":[1,2]}')
    ]
    assert [c.call for c in out.chunks if isinstance(c, ToolCallEnd)] == result.tool_calls
    assert result.finish_reason == "tool_calls"


async def test_structured_output_uses_a_forced_tool(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    fmt = JsonSchemaFormat(schema=schema, name="person")
    fake_anthropic.replies.append(FakeReply(tool_calls=[FakeToolCall("person", {"name": "Ada"})]))
    request = ChatRequest(messages=[UserMessage(content="Who?")], response_format=fmt)
    result = await anthropic_client.chat(request)
    assert result.text == '{"name":"Ada"}'
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    body = fake_anthropic.requests[-1].json()
    assert body["tool_choice"] == {"type": "tool", "name": "person"}
    assert body["tools"][-1]["input_schema"] == schema
    fake_anthropic.replies.append(FakeReply(tool_calls=[FakeToolCall("person", {"name": "Ada"})]))
    out = Collector()
    streamed = await anthropic_client.stream(request, out)
    assert streamed.text == out.text() == '{"name":"Ada"}'


async def test_529_overloaded_is_retried(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    fake_anthropic.replies.append(FakeReply(status=529, error_message="Overloaded"))
    result = await anthropic_client.chat(HELLO)
    assert result.text == "Echo: hi there"
    assert len(fake_anthropic.requests) == 2


async def test_529_exhausted_is_unavailable(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    for _ in range(3):
        fake_anthropic.replies.append(FakeReply(status=529, error_message="Overloaded"))
    with pytest.raises(UnavailableError, match="Overloaded") as caught:
        await anthropic_client.chat(HELLO)
    assert caught.value.status == 529
    assert len(fake_anthropic.requests) == 3


async def test_rate_limit_is_retried_and_bad_requests_are_typed(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    fake_anthropic.replies.append(FakeReply(status=429, headers={"retry-after": "0.01"}))
    fake_anthropic.replies.append(
        FakeReply(status=400, error_message="prompt is too long: 210000 tokens")
    )
    with pytest.raises(ContextLengthError, match="prompt is too long"):
        await anthropic_client.chat(HELLO)
    fake_anthropic.replies.append(
        FakeReply(status=400, error_message="messages: roles must alternate")
    )
    with pytest.raises(BadRequestError, match="roles must alternate"):
        await anthropic_client.chat(HELLO)
    assert len(fake_anthropic.requests) == 3


async def test_error_event_mid_stream(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    fake_anthropic.replies.append(
        FakeReply(text="a b c d", error_after_events=5, error_message="Overloaded")
    )
    out = Collector()
    with pytest.raises(UnavailableError, match="Overloaded"):
        await anthropic_client.stream(HELLO, out)
    assert out.text() == "a b "
    last = out.chunks[-1]
    assert isinstance(last, StreamError)
    assert (last.kind, last.delivered) == ("unavailable", True)
    assert len(fake_anthropic.requests) == 1


async def test_error_event_before_content_is_retried(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    fake_anthropic.replies.append(FakeReply(error_after_events=1))
    out = Collector()
    result = await anthropic_client.stream(HELLO, out)
    assert result.text == out.text() == "Echo: hi there"
    assert len(fake_anthropic.requests) == 2


async def test_stream_without_message_stop_is_interrupted(
    fake_anthropic: FakeAnthropic, anthropic_client: AnthropicClient
) -> None:
    fake_anthropic.replies.append(FakeReply(text="one two three", cut_after_events=5))
    with pytest.raises(StreamInterrupted):
        await anthropic_client.stream(HELLO, Collector())
    assert len(fake_anthropic.requests) == 1


async def test_embeddings_are_not_offered(anthropic_client: AnthropicClient) -> None:
    with pytest.raises(BadRequestError, match="no embeddings"):
        await anthropic_client.embed(EmbedRequest(inputs=["x"]))
