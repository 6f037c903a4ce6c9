"""An agent whose tools come from an MCP server: the SDK-written server in
``examples/mcp_weather_server.py``, started as a subprocess and spoken to over stdio.

Run it with ``python -m examples.mcp_tools Paris``. The server's ``get_weather`` becomes the
tool actor ``weather_get_weather`` (schema and result as the server gives them). Offline it
uses the scripted model (a rule that calls the tool, then answers from its result); give
``main`` another ``ProviderConfig`` to drive the same agent with a real model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from actors.agent import Agent, GenerateResult
from actors.llm import (
    ProviderConfig,
    ScriptedConfig,
    ScriptedToolCall,
    ScriptedTurn,
    ScriptRule,
    spawn_provider,
)
from actors.mcp import McpServer, mcp_server
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["SCRIPT", "main", "weather_server"]

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = ScriptedConfig(
    rules=[
        ScriptRule(
            match=r"(?i)weather in (?P<city>\w+)",
            turns=[
                ScriptedTurn(
                    tool_calls=[
                        ScriptedToolCall(name="weather_get_weather", arguments='{"city": "$city"}')
                    ]
                ),
                ScriptedTurn(text="In $city: $tool_structuredContent"),
            ],
        )
    ]
)
"""Offline rules: call the MCP tool, then answer with its structured result."""


def weather_server() -> McpServer:
    """The MCP server, run with this interpreter over stdio (its stderr discarded)."""
    return mcp_server(
        "weather",
        command=sys.executable,
        args=["-m", "examples.mcp_weather_server"],
        cwd=str(ROOT),
        stderr="discard",
    )


async def main(city: str = "Paris", provider: ProviderConfig | None = None) -> GenerateResult:
    """Ask for the weather in ``city`` and print the answer; returns the whole result."""
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        await spawn_provider(rt, "model", provider or SCRIPT)
        agent = await rt.spawn(
            Agent(
                name="forecaster",
                instructions="You give short weather reports. Use the tools; never guess.",
                model="model",
                tools=[weather_server()],
            )
        )
        result = await agent.generate(f"What is the weather in {city}?")
    print(result.text)
    return result


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or "Paris")
