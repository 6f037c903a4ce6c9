"""Talk to a model provider actor, streamed, with the offline scripted model.

Run it with ``python -m examples.chat "hello big world"``. The same code works against a
real vendor: spawn the provider with an ``OpenAICompatConfig`` or ``AnthropicConfig``
instead (API keys come from the environment).
"""

from __future__ import annotations

import sys

import trio

from actors.llm import ScriptedConfig, spawn_provider
from actors.llm.messages import ChatRequest, ChatResult, TextDelta, UserMessage
from runtime import RuntimeConfig, TelemetryConfig, open_runtime


async def main(prompt: str = "hello there") -> tuple[list[str], ChatResult]:
    """Stream one answer, then ask for the same one whole; returns both."""
    pieces: list[str] = []
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        model = await spawn_provider(rt, "scripted", ScriptedConfig())
        request = ChatRequest(model="scripted", messages=[UserMessage(content=prompt)])
        async with model.stream(request) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, TextDelta):  # printed as the model produces it
                    pieces.append(chunk.text)
                    print(chunk.text, end="", flush=True)
        print()
        whole: ChatResult = await model.ask(request)
    return pieces, whole


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or "hello there")
