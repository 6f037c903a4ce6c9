"""The SSE decoder and the stream assemblers under every chunk-boundary split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.llm import ProtocolError, ServerSentEvent, SSEDecoder
from actors.llm._anthropic_stream import AnthropicAssembler
from actors.llm._openai_stream import OpenAIAssembler
from actors.llm.messages import ChatResult, StreamChunk, ToolCall, ToolCallEnd, Usage
from tests.actors.llm.recorded import ANTHROPIC_STREAM, OPENAI_STREAM
from tests.fakes.fake_http import split_body


def decode_all(pieces: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for piece in pieces for e in decoder.feed(piece)]
    return events + decoder.close()


def assemble_openai(pieces: list[bytes]) -> tuple[list[StreamChunk], ChatResult]:
    assembler = OpenAIAssembler("openai", "gpt-4o-mini")
    chunks = [c for e in decode_all(pieces) for c in assembler.feed(e)]
    assert assembler.done
    return chunks, assembler.result()


def assemble_anthropic(pieces: list[bytes]) -> tuple[list[StreamChunk], ChatResult]:
    assembler = AnthropicAssembler("anthropic", "claude", None)
    chunks = [c for e in decode_all(pieces) for c in assembler.feed(e)]
    assert assembler.done
    return chunks, assembler.result()


def test_recorded_openai_stream_assembles() -> None:
    chunks, result = assemble_openai([OPENAI_STREAM])
    assert result.text == "Grüße, 世界 👋"
    assert result.tool_calls == [
        ToolCall(id="call_Ab12", name="get_weather", arguments='{"city": "Zürich"}'),
        ToolCall(id="call_Cd34", name="get_time", arguments='{"tz": "CET"}'),
    ]
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(input_tokens=42, output_tokens=17, cached_input_tokens=8)
    assert result.response_id == "chatcmpl-rec1"
    assert result.model == "gpt-4o-mini-2024-07-18"
    ends = [c for c in chunks if isinstance(c, ToolCallEnd)]
    assert [e.call for e in ends] == result.tool_calls


def test_recorded_anthropic_stream_assembles() -> None:
    _, result = assemble_anthropic([ANTHROPIC_STREAM])
    assert result.text == "Okay, ich prüfe das Wetter ☀️"
    assert result.tool_calls == [
        ToolCall(
            id="toolu_01T1x", name="get_weather", arguments='{"location": "München", "unit": "c"}'
        )
    ]
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(input_tokens=472, output_tokens=89)


@pytest.mark.parametrize(
    ("stream", "assemble"),
    [(OPENAI_STREAM, assemble_openai), (ANTHROPIC_STREAM, assemble_anthropic)],
    ids=["openai", "anthropic"],
)
def test_every_single_split_gives_the_same_result(stream: bytes, assemble: object) -> None:
    whole = assemble([stream])  # type: ignore[operator]
    for position in range(1, len(stream)):
        assert assemble([stream[:position], stream[position:]]) == whole, position  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=len(OPENAI_STREAM) - 1), max_size=40),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_splits_and_line_endings_give_the_same_result(cuts: list[int], newline: str) -> None:
    stream = OPENAI_STREAM.replace(b"\n", newline.encode())
    assert assemble_openai(split_body(stream, cuts)) == assemble_openai([OPENAI_STREAM])


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(ANTHROPIC_STREAM) - 1), max_size=40))
def test_any_splits_of_the_anthropic_stream(cuts: list[int]) -> None:
    assert assemble_anthropic(split_body(ANTHROPIC_STREAM, cuts)) == assemble_anthropic(
        [ANTHROPIC_STREAM]
    )


@given(
    text=st.text(min_size=1).filter(lambda t: "\r" not in t and "\n" not in t),
    cut=st.integers(0, 200),
)
def test_utf8_split_inside_a_character_is_decoded_whole(text: str, cut: int) -> None:
    body = f"data: {text}\n\n".encode()
    cut = min(cut, len(body))
    assert decode_all([body[:cut], body[cut:]]) == [ServerSentEvent(None, text)]


def test_decoder_follows_the_event_stream_rules() -> None:
    body = (
        b"\xef\xbb\xbf: a comment\n"
        b"event: first\ndata: line one\ndata:line two\nid: 7\nretry: 1500\nunknown: x\n\n"
        b"data\n\n"
        b"id: bad\x00id\ndata: third\n\n"
        b"data: unterminated"
    )
    events = decode_all([body])
    assert events == [
        ServerSentEvent("first", "line one\nline two", "7", 1500),
        ServerSentEvent(None, "", "7"),
        ServerSentEvent(None, "third", "7"),
    ]


def test_a_line_that_is_not_utf8_raises() -> None:
    with pytest.raises(UnicodeDecodeError):
        SSEDecoder().feed(b"data: \xff\xfe\n\n")


def test_malformed_chunk_is_a_protocol_error() -> None:
    assembler = OpenAIAssembler("openai", "m")
    with pytest.raises(ProtocolError, match="malformed stream chunk"):
        assembler.feed(ServerSentEvent(None, '{"id": "x", "choices": ['))
