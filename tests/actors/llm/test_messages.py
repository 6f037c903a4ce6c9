"""The message vocabulary: every type round-trips through msgpack and JSON; bad input names
the field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.llm.messages import (
    AssistantMessage,
    ChatMessage,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    ForceTool,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    ProviderRequest,
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
    last_user_text,
)
from runtime._codec import decode_json, decode_msgpack, encode_json, encode_msgpack

CALL = ToolCall(id="c1", name="add", arguments='{"a": 1}')
RESULT = ChatResult(
    text="hi",
    tool_calls=[CALL],
    finish_reason="tool_calls",
    usage=Usage(input_tokens=3, output_tokens=4, cached_input_tokens=1, reasoning_tokens=2),
    response_id="r1",
    model="m",
    provider="openai",
    raw_finish_reason="tool_calls",
    fallbacks=["deepseek/deepseek-chat"],
)
REQUEST = ChatRequest(
    messages=[
        SystemMessage(content="sys"),
        UserMessage(
            content=[
                TextPart(text="look"),
                ImagePart(url="https://x/y.png"),
                ImagePart(data="AA==", media_type="image/png"),
            ]
        ),
        AssistantMessage(content="ok", tool_calls=[CALL]),
        ToolMessage(tool_call_id="c1", content="2", name="add", is_error=True),
    ],
    model="gpt",
    tools=[ToolDefinition(name="add", description="d", parameters={"type": "object"})],
    tool_choice=ForceTool(name="add"),
    response_format=JsonSchemaFormat(schema={"type": "object"}),
    temperature=0.5,
    top_p=0.9,
    max_tokens=10,
    stop=["x"],
    seed=1,
    extra={"logprobs": True},
)

SAMPLES: list[tuple[Any, Any]] = [
    (REQUEST, ChatRequest),
    (REQUEST, ProviderRequest),
    (
        msgspec.structs.replace(REQUEST, tool_choice="none", response_format=JsonObjectFormat()),
        ChatRequest,
    ),
    (EmbedRequest(inputs=["a"], model="e", dimensions=3), ProviderRequest),
    (RESULT, ChatResult),
    (
        EmbeddingResult(
            vectors=[[0.5, -1.0]], model="e", provider="hash", usage=Usage(input_tokens=1)
        ),
        EmbeddingResult,
    ),
    (TextDelta(text="x"), StreamChunk),
    (ToolCallStart(index=0, id="c1", name="add"), StreamChunk),
    (ToolCallDelta(index=0, arguments='{"a'), StreamChunk),
    (ToolCallEnd(index=0, call=CALL), StreamChunk),
    (UsageChunk(usage=Usage(input_tokens=1)), StreamChunk),
    (Finish(result=RESULT), StreamChunk),
    (
        StreamError(
            kind="unavailable", message="down", provider="groq", status=503, delivered=True
        ),
        StreamChunk,
    ),
]


@pytest.mark.parametrize(("value", "tp"), SAMPLES)
def test_round_trips(value: Any, tp: Any) -> None:
    assert decode_msgpack(encode_msgpack(value), tp) == value
    assert decode_json(encode_json(value), tp) == value


def test_json_looks_like_the_vendors() -> None:
    wire = msgspec.json.decode(encode_json(REQUEST))
    assert wire["messages"][0] == {"role": "system", "content": "sys"}
    assert wire["messages"][1]["content"][1] == {"type": "image", "url": "https://x/y.png"}
    assert msgspec.json.decode(encode_json(TextDelta(text="x"))) == {
        "type": "text-delta",
        "text": "x",
    }


@given(
    texts=st.lists(st.text(), min_size=1, max_size=5),
    tokens=st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)),
)
def test_generated_requests_round_trip(texts: list[str], tokens: tuple[int, int]) -> None:
    messages: list[ChatMessage] = [UserMessage(content=t) for t in texts]
    request = ChatRequest(messages=messages)
    decoded: ChatRequest = decode_msgpack(encode_msgpack(request), ChatRequest)
    assert decoded == request
    usage = Usage(input_tokens=tokens[0], output_tokens=tokens[1])
    same: Usage = decode_json(encode_json(usage), Usage)
    assert same == usage
    assert (usage + usage).total_tokens == 2 * (tokens[0] + tokens[1])
    assert last_user_text(messages) == texts[-1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"type":"ChatRequest","messages":[]}', "messages"),
        (
            b'{"type":"ChatRequest","messages":[{"role":"user","content":"x"}],"max_tokens":0}',
            "max_tokens",
        ),
        (
            b'{"type":"ChatRequest","messages":[{"role":"user","content":"x"}],"temperature":3}',
            "temperature",
        ),
        (
            b'{"type":"ChatRequest","messages":[{"role":"user","content":[{"type":"image"}]}]}',
            "image",
        ),
        (
            b'{"type":"ChatRequest","messages":[{"role":"user","content":[{"type":"image","data":"AA"}]}]}',
            "media_type",
        ),
        (b'{"type":"ChatRequest","messages":[{"role":"robot","content":"x"}]}', "$.messages[0]"),
        (
            b'{"type":"ChatRequest","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool","name":"zap"}}',
            "tool_choice.name",
        ),
        (b'{"type":"EmbedRequest","inputs":[]}', "inputs"),
    ],
)
def test_bad_input_names_the_field(body: bytes, field: str) -> None:
    with pytest.raises(
        msgspec.ValidationError,
        match=field.replace("$", r"\$").replace("[", r"\[").replace("]", r"\]"),
    ):
        decode_json(body, ProviderRequest)


def test_tool_call_arguments_parse_or_name_the_call() -> None:
    assert CALL.parsed_arguments() == {"a": 1}
    with pytest.raises(ValueError, match="tool call c2 \\(add\\)"):
        ToolCall(id="c2", name="add", arguments="{oops").parsed_arguments()
