"""Talk to an agent with OpenAI's official Python client, through ``/v1/chat/completions``.

Run it with ``python -m examples.openai_client``: it starts an offline runtime (the scripted
model, the ``add`` tool and the demo ``echo`` agent with memory) and an HTTP server on a
free loopback port, then asks the agent as OpenAI's client asks a model. Against a running
server (``make serve``) pass its URL instead: ``python -m examples.openai_client
http://127.0.0.1:4111`` (with tokens configured, set ``MASTRA_API_TOKEN``).

The OpenAI client needs ``pip install openai`` (it is a development dependency here).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import httpx
import trio
from openai import AsyncOpenAI

from actors.demo.agent import add, echo
from actors.llm import ScriptedConfig, spawn_provider
from actors.server import GetAddress, Server, ServerConfig
from actors.stores import SqliteStore
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["OpenAIDemo", "main"]


@dataclass
class OpenAIDemo:
    """What the agent answered: the models listed, a tool turn (its text and the tools the
    agent ran), a streamed answer in pieces, and what a two-turn thread stored."""

    models: list[str] = field(default_factory=list)
    answer: str = ""
    tools_used: list[str] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    remembered: list[str] = field(default_factory=list)


async def talk(base_url: str) -> OpenAIDemo:
    """Use the agent ``echo`` of the server at ``base_url`` through OpenAI's client."""
    demo = OpenAIDemo()
    key = os.environ.get("MASTRA_API_TOKEN", "no-token-needed")
    async with AsyncOpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0) as client:
        demo.models = [model.id for model in (await client.models.list()).data]
        print("models:", ", ".join(demo.models))

        reply = await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "please add 2 and 40"}]
        )
        message = reply.choices[0].message
        demo.answer = message.content or ""
        demo.tools_used = [
            call.model_dump()["function"]["name"] for call in message.tool_calls or []
        ]
        print(f"{demo.answer} (the agent ran: {', '.join(demo.tools_used)})")

        stream = await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hello big world"}], stream=True
        )
        async for chunk in stream:  # printed as the agent produces it
            if chunk.choices and chunk.choices[0].delta.content:
                demo.pieces.append(chunk.choices[0].delta.content)
                print(chunk.choices[0].delta.content, end="", flush=True)
        print()

        # Memory: `user` names the resource, the header the thread; send only new messages.
        thread = {"x-mastra-thread-id": "openai-demo"}
        for text in ("first message", "second message"):
            await client.chat.completions.create(
                model="echo",
                messages=[{"role": "user", "content": text}],
                user="demo-user",
                extra_headers=thread,
            )
    demo.remembered = await _stored(base_url, key, "openai-demo")
    print("the thread holds:", demo.remembered)
    return demo


async def _stored(base_url: str, key: str, thread: str) -> list[str]:
    """The texts the agent stored in ``thread`` (read through the Mastra memory API)."""
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        response = await http.get(f"/api/memory/threads/{thread}/messages?agentId=echo")
        response.raise_for_status()
    return [m["content"]["content"] for m in response.json()["messages"]]


async def main(base_url: str | None = None) -> OpenAIDemo:
    """Talk to the server at ``base_url``, or to an offline one started here."""
    if base_url:
        return await talk(base_url)
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        await spawn_provider(rt, "scripted", ScriptedConfig())
        await rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await rt.spawn(add)
        await rt.spawn(echo)
        server = await rt.spawn(Server, ServerConfig(port=0), name="server")
        return await talk(await server.ask(GetAddress()))


if __name__ == "__main__":
    trio.run(main, sys.argv[1] if len(sys.argv) > 1 else None)
