from __future__ import annotations

from examples import openai_client


async def test_openai_client_talks_to_the_echo_agent() -> None:
    demo = await openai_client.main()
    assert "echo" in demo.models
    assert (demo.answer, demo.tools_used) == ("The sum is 42.", ["add"])
    assert len(demo.pieces) > 1 and "".join(demo.pieces) == "Echo: hello big world"
    assert demo.remembered == [
        "first message",
        "Echo: first message",
        "second message",
        "Echo: second message",
    ]
