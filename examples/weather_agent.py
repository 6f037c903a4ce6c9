"""A weather agent with two tools, called in parallel in one step.

Run it with ``python -m examples.weather_agent Paris``. Offline it uses the scripted model
(rules that call both tools and then summarize); give ``main`` another ``ProviderConfig``
(for example an ``OpenAICompatConfig``) to drive the same agent with a real model.
"""

from __future__ import annotations

import sys

import msgspec
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
from actors.tools import tool
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["SCRIPT", "Forecast", "Weather", "get_forecast", "get_weather", "main", "weather_agent"]

_CLIMATE = {"paris": (18.0, "cloudy"), "lisbon": (24.0, "sunny"), "oslo": (6.0, "rain")}


class Weather(msgspec.Struct, frozen=True):
    """Current conditions in a city."""

    city: str
    temperature_c: float
    conditions: str


class Forecast(msgspec.Struct, frozen=True):
    """The outlook for the next days."""

    city: str
    days: int
    summary: str


def _climate(city: str) -> tuple[float, str]:
    found = _CLIMATE.get(city.lower())
    if found is None:
        raise ValueError(f"unknown city {city!r}; known: {', '.join(sorted(_CLIMATE))}")
    return found


@tool(id="get_weather")
async def get_weather(city: str) -> Weather:
    """Current weather for a city.

    Args:
        city: the city name, e.g. "Paris".
    """
    temperature, conditions = _climate(city)
    return Weather(city=city, temperature_c=temperature, conditions=conditions)


@tool(id="get_forecast")
async def get_forecast(city: str, days: int = 3) -> Forecast:
    """Weather outlook for the next days.

    Args:
        city: the city name.
        days: how many days ahead (1-7).
    """
    temperature, conditions = _climate(city)
    summary = f"{conditions} for {days} days around {temperature:.0f} C"
    return Forecast(city=city, days=days, summary=summary)


SCRIPT = ScriptedConfig(
    rules=[
        ScriptRule(
            match=r"(?i)weather in (?P<city>\w+)",
            turns=[
                ScriptedTurn(
                    tool_calls=[
                        ScriptedToolCall(name="get_weather", arguments='{"city": "$city"}'),
                        ScriptedToolCall(
                            name="get_forecast", arguments='{"city": "$city", "days": 2}'
                        ),
                    ]
                ),
                ScriptedTurn(text="In $city: $tool_summary."),
            ],
        )
    ]
)
"""Offline rules: ask both tools at once, then answer from the forecast."""


def weather_agent(model: str = "model") -> Agent:
    """The agent spec, using the provider actor called ``model``."""
    return Agent(
        name="weather",
        instructions="You give short weather reports. Use the tools; never guess.",
        model=model,
        tools=[get_weather, get_forecast],
    )


async def main(city: str = "Paris", provider: ProviderConfig | None = None) -> GenerateResult:
    """Ask for the weather in ``city`` and print the answer; returns the whole result."""
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        await spawn_provider(rt, "model", provider or SCRIPT)
        agent = await rt.spawn(weather_agent())
        result = await agent.generate(f"What is the weather in {city}?")
    print(result.text)
    return result


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or "Paris")
