from __future__ import annotations

from examples import chat


async def test_chat_streams_word_by_word_and_matches_the_whole_answer() -> None:
    pieces, whole = await chat.main("hello big world")
    assert len(pieces) > 1
    assert "".join(pieces) == whole.text == "Echo: hello big world"
