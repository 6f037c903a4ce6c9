"""Structured output: extract a typed record from free text.

Run it with ``python -m examples.extraction``. The answer is validated against the JSON
Schema of ``Contact`` (one repair attempt when it does not match) and returned as a
``Contact``.
"""

from __future__ import annotations

import sys

import msgspec
import trio

from actors.agent import Agent
from actors.llm import ProviderConfig, ScriptedConfig, ScriptedTurn, ScriptRule, spawn_provider
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["SCRIPT", "Contact", "main"]


class Contact(msgspec.Struct, frozen=True):
    """A person to get in touch with."""

    name: str
    email: str
    company: str | None = None


SCRIPT = ScriptedConfig(
    rules=[
        ScriptRule(
            turns=[
                ScriptedTurn(
                    structured={"name": "Ada Lovelace", "email": "ada@example.com", "company": None}
                )
            ]
        )
    ],
    builtin=None,
)
"""Offline rules: always answer the same contact (a real model reads the text)."""

TEXT = "Please write to Ada Lovelace at ada@example.com about the engine."


async def main(text: str = TEXT, provider: ProviderConfig | None = None) -> Contact:
    """Extract the contact in ``text`` and print it."""
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        await spawn_provider(rt, "model", provider or SCRIPT)
        agent = await rt.spawn(
            Agent(name="extractor", instructions="Extract the contact.", model="model")
        )
        result = await agent.generate(text, output=Contact)
    contact = result.object
    if not isinstance(contact, Contact):
        raise TypeError(f"object: expected a Contact, got {type(contact).__name__}")
    print(msgspec.json.encode(contact).decode())
    return contact


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or TEXT)
