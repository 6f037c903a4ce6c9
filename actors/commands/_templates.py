"""The files ``mastra init`` writes, as ``string.Template`` texts.

Placeholders: ``$name`` (the project name) and ``$package`` (its Python package). The
project runs offline: the scripted model answers by rules (``convert 21`` calls the
``to_fahrenheit`` tool), the hash embedder embeds, SQLite keeps state under ``data/``.
"""

from __future__ import annotations

from string import Template

__all__ = ["FILES"]

CONFIG = Template(
    r"""# $name: an offline starter app (scripted model, hash embedder, SQLite under data/).
#
#   python -m runtime serve config.toml                  HTTP API on :4111
#   python -m runtime dev config.toml                    serve, reload on changes
#   python -m runtime chat assistant --config config.toml
#   python -m runtime run temperature-report --config config.toml --input '{"celsius": 21}'
#   python -m pytest                                     the tests in tests/
#
# Strings may use $${ENV_VAR} or $${ENV_VAR:-default}; MASTRA_<SECTION>__<KEY>=value overrides.

[telemetry]
enabled = true
sampling = 1.0
exporter = "none"     # none | console | otlp

[logging]
format = "human"      # human | json
level = "INFO"

[[actors]]  # durable state: threads, messages, working memory, workflow runs
name = "store"
kind = "store"
factory = "actors.stores:SqliteStore"
options = { path = "$${MASTRA_DATA:-data}/mastra.db" }

[[actors]]  # vectors for semantic recall and the vector API
name = "default"
kind = "store"
factory = "actors.stores:VectorStore"
options = { path = "$${MASTRA_DATA:-data}/vectors.db", index_dir = "$${MASTRA_DATA:-data}/indexes" }

[[actors]]  # the offline scripted model: rules first, then the built-in echo
name = "scripted"
kind = "provider"
factory = "actors.llm:configured_provider"

[actors.options]
type = "scripted"
builtin = "echo"

[[actors.options.rules]]
match = '(?i)\bconvert\s+(?P<c>-?\d+(?:\.\d+)?)'
turns = [
  { tool_calls = [{ name = "to_fahrenheit", arguments = '{"celsius": $$c}' }] },
  { text = "$$c °C is $$tool_fahrenheit °F." },
]

[[actors]]  # the offline hashing embedder
name = "hash"
kind = "provider"
factory = "actors.llm:configured_provider"
options = { type = "hash", dimension = 384 }

[[actors]]
name = "to_fahrenheit"
factory = "$package.tools:to_fahrenheit"

[[actors]]
name = "assistant"
kind = "agent"
factory = "$package.agents:assistant"

[[actors]]
name = "temperature-report"
kind = "workflow"
factory = "$package.workflows:report_app"

[[actors]]  # last to start, first to stop
name = "server"
factory = "actors.server:Server"
options = { host = "$${MASTRA_HOST:-127.0.0.1}", port = "$${MASTRA_PORT:-4111}" }
"""
)

PYPROJECT = Template("""[project]
name = "$name"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["$requirement"]

[tool.pytest.ini_options]
trio_mode = true
pythonpath = ["."]
testpaths = ["tests"]
""")

GITIGNORE = Template("""data/
__pycache__/
.venv/
""")

INIT = Template('''"""$name: an agent with a tool and a workflow, served by config.toml."""
''')

TOOLS = Template(
    '''"""Tools: plain functions with type hints and docstrings that the agent can call."""

from __future__ import annotations

import msgspec

from actors import tool


class Fahrenheit(msgspec.Struct, frozen=True):
    """A temperature in degrees Fahrenheit."""

    fahrenheit: float


@tool(id="to_fahrenheit")
def to_fahrenheit(celsius: float) -> Fahrenheit:
    """Converts a temperature from degrees Celsius to degrees Fahrenheit

    Args:
        celsius: the temperature in degrees Celsius
    """
    return Fahrenheit(fahrenheit=round(celsius * 9 / 5 + 32, 2))
'''
)

AGENTS = Template('''"""Agents: a model with instructions, tools and memory."""

from __future__ import annotations

from actors import Agent, Memory
from $package.tools import to_fahrenheit

assistant = Agent(
    name="assistant",
    description="Converts temperatures with the to_fahrenheit tool",
    instructions="You convert temperatures. Call to_fahrenheit for Celsius values.",
    model="scripted",  # the provider actor of config.toml; e.g. "openai/gpt-4o-mini" later
    tools=[to_fahrenheit],
    memory=Memory(last_messages=20),
)
''')

WORKFLOWS = Template(
    '''"""Workflows: typed steps chained into durable runs (a snapshot after each step)."""

from __future__ import annotations

import msgspec

from actors.workflow import StepContext, Workflow, step


class Reading(msgspec.Struct, frozen=True):
    """The input: a temperature in degrees Celsius."""

    celsius: float


class Converted(msgspec.Struct, frozen=True):
    """The temperature in both units."""

    celsius: float
    fahrenheit: float


class Report(msgspec.Struct, frozen=True):
    """The output: the temperatures and a sentence about them."""

    celsius: float
    fahrenheit: float
    summary: str


def _convert(ctx: StepContext[Reading]) -> Converted:
    celsius = ctx.input_data.celsius
    return Converted(celsius=celsius, fahrenheit=round(celsius * 9 / 5 + 32, 2))


def _describe(ctx: StepContext[Converted]) -> Report:
    c, f = ctx.input_data.celsius, ctx.input_data.fahrenheit
    feel = "hot" if c >= 30 else "cold" if c <= 5 else "mild"
    return Report(celsius=c, fahrenheit=f, summary=f"{c:g} °C ({f:g} °F) is {feel}")


report = (
    Workflow("temperature-report", Reading, Report, description="convert -> describe")
    .then(step("convert", Reading, Converted, _convert, description="Celsius to Fahrenheit"))
    .then(step("describe", Converted, Report, _describe, description="a sentence about it"))
    .commit()
)

report_app = report.deploy(store="store")
"""The workflow with its runs kept in the store actor named ``store``."""
'''
)

TEST = Template(
    '''"""Tests: the app of config.toml in a test runtime (data in a temporary directory)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors import AgentRef, WorkflowRef
from runtime import RuntimeConfig, load_config
from runtime.testing import TestRuntime, open_test_runtime

CONFIG = Path(__file__).resolve().parents[1] / "config.toml"


@pytest.fixture
def config(tmp_path: Path) -> RuntimeConfig:
    env = {**os.environ, "MASTRA_DATA": str(tmp_path), "MASTRA_PORT": "0"}
    return load_config(CONFIG, env=env)


@pytest.fixture
async def app(config: RuntimeConfig) -> AsyncIterator[TestRuntime]:
    async with open_test_runtime(config) as t:
        yield t


async def test_the_agent_calls_the_tool_and_remembers(app: TestRuntime) -> None:
    ref = app.rt.lookup("assistant", kind="agent")
    assert ref is not None
    agent = AgentRef(ref)
    first = await agent.generate("convert 21 please", thread="t1", resource="me")
    assert first.text == "21 °C is 69.8 °F."
    assert [call.tool_name for step in first.steps for call in step.tool_calls] == ["to_fahrenheit"]
    assert "execute_tool to_fahrenheit" in app.spans.names()
    second = await agent.generate("hello again", thread="t1", resource="me")
    assert second.text == "Echo: hello again"


async def test_the_workflow_converts_and_describes(app: TestRuntime) -> None:
    ref = app.rt.lookup("temperature-report", kind="workflow")
    assert ref is not None
    result = await WorkflowRef(ref).start({"celsius": 35})
    assert result.status == "success"
    assert result.result == {
        "celsius": 35.0,
        "fahrenheit": 95.0,
        "summary": "35 °C (95 °F) is hot",
    }
    assert list(result.steps) == ["convert", "describe"]
'''
)

FILES: dict[str, Template] = {
    "config.toml": CONFIG,
    "pyproject.toml": PYPROJECT,
    ".gitignore": GITIGNORE,
    "$package/__init__.py": INIT,
    "$package/tools.py": TOOLS,
    "$package/agents.py": AGENTS,
    "$package/workflows.py": WORKFLOWS,
    "tests/test_$package.py": TEST,
}
"""Relative path (itself a template) -> file text template."""
