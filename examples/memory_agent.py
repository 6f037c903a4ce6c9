"""An agent that remembers across three turns: conversation history and working memory.

Run it with ``python -m examples.memory_agent``. Messages and the working memory live in a
SQLite file (a temporary directory here); the scripted model updates the working memory
through the built-in ``updateWorkingMemory`` tool when told a name.
"""

from __future__ import annotations

import os
import tempfile

import trio

from actors.agent import Agent, GenerateResult
from actors.demo import add
from actors.llm import (
    ProviderConfig,
    ScriptedConfig,
    ScriptedToolCall,
    ScriptedTurn,
    ScriptRule,
    spawn_provider,
)
from actors.memory import Memory, WorkingMemory
from actors.stores import SqliteStore
from actors.stores.messages import GetMessages, GetWorkingMemory, MessageRecord
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["SCRIPT", "TURNS", "MemoryDemo", "main"]

TURNS = ["Hi, my name is Ada.", "please add 2 and 40", "Do you remember me?"]

_REMEMBER = ScriptedToolCall(
    name="updateWorkingMemory", arguments='{"memory": "# User\\n- Name: $name\\n"}'
)

SCRIPT = ScriptedConfig(
    rules=[
        ScriptRule(
            match=r"my name is (?P<name>\w+)",
            turns=[ScriptedTurn(tool_calls=[_REMEMBER]), ScriptedTurn(text="Nice to meet you.")],
        )
    ]
)
"""Offline rules: remember a name through working memory; otherwise the echo rules."""


class MemoryDemo:
    """What the demo produced: the answers, the stored messages and the working memory."""

    def __init__(
        self, results: list[GenerateResult], stored: list[MessageRecord], working: str | None
    ) -> None:
        self.results = results
        self.stored = stored
        self.working = working


async def main(provider: ProviderConfig | None = None, data_dir: str | None = None) -> MemoryDemo:
    """Hold three turns in one thread and print them; returns what was stored."""
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(data_dir or scratch, "memory.db")
        async with open_runtime(config) as rt:
            await spawn_provider(rt, "model", provider or SCRIPT)
            store = await rt.spawn(SqliteStore, path, name="store", kind="store")
            memory = Memory(last_messages=10, working_memory=WorkingMemory(scope="resource"))
            spec = Agent(
                name="assistant",
                instructions="You help.",
                model="model",
                tools=[add],
                memory=memory,
            )
            agent = await rt.spawn(spec)
            results = []
            for text in TURNS:
                result = await agent.generate(text, thread="chat-1", resource="ada")
                print(f"> {text}\n{result.text}")
                results.append(result)
            stored: list[MessageRecord] = await store.ask(GetMessages(thread_id="chat-1"))
            working: str | None = await store.ask(GetWorkingMemory(scope="resource", id="ada"))
    return MemoryDemo(results, stored, working)


if __name__ == "__main__":
    trio.run(main)
