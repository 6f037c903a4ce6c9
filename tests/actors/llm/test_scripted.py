"""The scripted model (not a language model) and the hash embedder, pure and as actors."""

from __future__ import annotations

import math

import pytest

from actors.llm import (
    BadRequestError,
    HashEmbedConfig,
    HashEmbedder,
    RateLimitedError,
    ScriptedConfig,
    ScriptedModel,
    ScriptedToolCall,
    ScriptedTurn,
    ScriptRule,
    collect_stream,
    hash_embed,
    spawn_provider,
)
from actors.llm.messages import (
    AssistantMessage,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    JsonSchemaFormat,
    StreamChunk,
    StreamError,
    TextDelta,
    ToolCallEnd,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)
from runtime.testing import open_test_runtime

ADD = ToolDefinition(name="add", parameters={"type": "object"})


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_echo_answers_with_the_last_user_text() -> None:
    model = ScriptedModel(ScriptedConfig())
    result = await model.chat(ChatRequest(messages=[UserMessage(content="hello there world")]))
    assert result.text == "Echo: hello there world"
    assert result.finish_reason == "stop"
    assert result.usage.output_tokens == 6  # the reference mock's count for this answer


async def test_echo_streams_word_by_word() -> None:
    model = ScriptedModel(ScriptedConfig())
    chunks: list[StreamChunk] = []

    async def emit(chunk: StreamChunk) -> None:
        chunks.append(chunk)

    result = await model.stream(
        ChatRequest(messages=[UserMessage(content="hello there world")]), emit
    )
    deltas = [c.text for c in chunks if isinstance(c, TextDelta)]
    assert deltas == ["Echo: ", "hello ", "there ", "world"]
    assert chunks[-1] == Finish(result=result)


async def test_scripted_tool_call_round_trip_through_the_actor() -> None:
    async with open_test_runtime() as t:
        ref = await spawn_provider(t.rt, "scripted", ScriptedConfig())
        user = UserMessage(content="please add 2 and 40")
        first: ChatResult = await ref.ask(ChatRequest(messages=[user], tools=[ADD]))
        assert first.finish_reason == "tool_calls"
        (call,) = first.tool_calls
        assert (call.name, call.parsed_arguments()) == ("add", {"a": 2, "b": 40})
        args = call.parsed_arguments()
        tool_result = ToolMessage(
            tool_call_id=call.id, name="add", content=f'{{"sum": {args["a"] + args["b"]}}}'
        )
        follow_up = ChatRequest(
            messages=[user, AssistantMessage(tool_calls=[call]), tool_result], tools=[ADD]
        )
        async with ref.stream(follow_up) as chunks:
            second = await collect_stream(chunks)
        assert second.text == "The sum is 42."
        assert second.finish_reason == "stop"


async def test_add_rule_needs_the_add_tool() -> None:
    model = ScriptedModel(ScriptedConfig())
    result = await model.chat(ChatRequest(messages=[UserMessage(content="add 1 and 2")]))
    assert result.text == "Echo: add 1 and 2"


async def test_streamed_tool_calls_end_with_the_assembled_call() -> None:
    model = ScriptedModel(ScriptedConfig())
    chunks: list[StreamChunk] = []

    async def emit(chunk: StreamChunk) -> None:
        chunks.append(chunk)

    result = await model.stream(
        ChatRequest(messages=[UserMessage(content="add 1.5 and -2")], tools=[ADD]), emit
    )
    ends = [c.call for c in chunks if isinstance(c, ToolCallEnd)]
    assert ends == result.tool_calls
    assert ends[0].parsed_arguments() == {"a": 1.5, "b": -2}


async def test_custom_rules_with_groups_structured_output_and_errors() -> None:
    config = ScriptedConfig(
        builtin=None,
        rules=[
            ScriptRule(match=r"fail", turns=[ScriptedTurn(error="rate_limited")]),
            ScriptRule(
                match=r"weather in (?P<city>\w+)",
                turns=[
                    ScriptedTurn(
                        tool_calls=[ScriptedToolCall(name="weather", arguments='{"city": "$city"}')]
                    ),
                    ScriptedTurn(text="It is $tool_result in $city."),
                ],
            ),
            ScriptRule(turns=[ScriptedTurn(text="plain", structured={"name": "Ada", "age": 36})]),
        ],
    )
    model = ScriptedModel(config)
    weather = ToolDefinition(name="weather")
    user = UserMessage(content='weather in Paris "today"')
    first = await model.chat(ChatRequest(messages=[user], tools=[weather]))
    assert first.tool_calls[0].parsed_arguments() == {"city": "Paris"}
    second = await model.chat(
        ChatRequest(
            messages=[
                user,
                AssistantMessage(tool_calls=first.tool_calls),
                ToolMessage(tool_call_id="x", content="sunny"),
            ],
            tools=[weather],
        )
    )
    assert second.text == "It is sunny in Paris."
    fmt = JsonSchemaFormat(schema={"type": "object"})
    structured = await model.chat(
        ChatRequest(messages=[UserMessage(content="who")], response_format=fmt)
    )
    assert structured.text == '{"name":"Ada","age":36}'
    plain = await model.chat(ChatRequest(messages=[UserMessage(content="who")]))
    assert plain.text == "plain"
    with pytest.raises(RateLimitedError):
        await model.chat(ChatRequest(messages=[UserMessage(content="please fail")]))
    chunks: list[StreamChunk] = []

    async def emit(chunk: StreamChunk) -> None:
        chunks.append(chunk)

    with pytest.raises(RateLimitedError):
        await model.stream(ChatRequest(messages=[UserMessage(content="fail")]), emit)
    assert chunks == [
        StreamError(kind="rate_limited", message="scripted failure", provider="scripted")
    ]


def test_a_script_needs_rules() -> None:
    with pytest.raises(ValueError, match="rules"):
        ScriptedModel(ScriptedConfig(builtin=None))


async def test_scripted_model_does_not_embed() -> None:
    with pytest.raises(BadRequestError, match="hash embedder"):
        await ScriptedModel(ScriptedConfig()).embed(EmbedRequest(inputs=["x"]))


def test_hash_embedding_is_deterministic_unit_and_sized() -> None:
    a = hash_embed("The weather in Paris is sunny", 64)
    assert a == hash_embed("The weather in Paris is sunny", 64)
    assert len(a) == 64
    assert math.isclose(math.sqrt(sum(v * v for v in a)), 1.0)
    assert math.isclose(math.sqrt(sum(v * v for v in hash_embed("", 16))), 1.0)


def test_hash_embedding_ranks_shared_words_higher() -> None:
    query = hash_embed("what is the weather in paris", 384)
    related = hash_embed("the weather in Paris was sunny yesterday", 384)
    unrelated = hash_embed("my cat likes fish and naps", 384)
    assert cosine(query, related) > cosine(query, unrelated) + 0.3


async def test_hash_embedder_actor_with_dimensions() -> None:
    async with open_test_runtime() as t:
        ref = await spawn_provider(t.rt, "hash", HashEmbedConfig(dimension=32))
        result: EmbeddingResult = await ref.ask(EmbedRequest(inputs=["a b", "c"]))
        assert [len(v) for v in result.vectors] == [32, 32]
        assert result.vectors[0] == hash_embed("a b", 32)
        sized: EmbeddingResult = await ref.ask(EmbedRequest(inputs=["a b"], dimensions=8))
        assert len(sized.vectors[0]) == 8
        with pytest.raises(BadRequestError):
            await ref.ask(ChatRequest(messages=[UserMessage(content="hi")]))
        assert t.rt.stats()["hash"].restarts == 0
    assert HashEmbedder(HashEmbedConfig()).provider == "hash"
