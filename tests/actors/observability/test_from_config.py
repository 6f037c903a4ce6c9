"""Traces kept for ``/api/observability`` from a plain config: a span processor named in
``telemetry.span_processors`` and the ``Observability`` actor share the process's store."""

from __future__ import annotations

import pytest

from actors.agent import Agent
from actors.llm import ScriptedConfig, spawn_provider
from actors.observability import ListTraces, Observability, TraceFilter
from runtime import ConfigError, RuntimeConfig, TelemetryConfig, open_runtime

PROCESSOR = "actors.observability:processor"


async def test_a_config_keeps_the_traces_of_agent_turns() -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(span_processors=[PROCESSOR]))
    async with open_runtime(config) as rt:
        await spawn_provider(rt, "scripted", ScriptedConfig())
        agent = await rt.spawn(Agent(name="traced", instructions="", model="scripted"))
        traces = await rt.spawn(Observability, name="observability", kind="observability")
        await agent.generate("hello")
        page = await traces.ask(ListTraces(TraceFilter(entity_name="traced", per_page=5)))
    assert page.total >= 1
    assert page.roots[0]["entityName"] == "traced"


@pytest.mark.parametrize(
    ("name", "problem"),
    [("actors.observability:nope", "cannot make"), ("actors.observability:TraceFilter", "not a")],
)
async def test_a_bad_span_processor_is_a_config_error_naming_it(name: str, problem: str) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(span_processors=[PROCESSOR, name]))
    with pytest.raises(ConfigError, match=rf"\$\.telemetry\.span_processors\[1\]: .*{problem}"):
        async with open_runtime(config):
            pass
