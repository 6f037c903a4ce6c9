"""Trace storage cost: agent turns (``please add 2 and 40`` to an ``echo`` agent with the
offline scripted model: two model calls and a tool call, so a trace of several spans) with
every span kept for ``/api/observability`` against the same turns with tracing off, in
interleaved rounds in this process. ``traces_on_ratio`` is turns per second with traces
kept over turns per second without (target >= 0.8).

Tracing costs the same with any consumer, so each round also runs the turns with tracing on
and every span discarded (``tracing_only``: the ceiling of any trace storage) and reports
``storage_vs_tracing_ratio``, the share of that ceiling that keeping the spans leaves.

    python -m bench._traces --quick
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import trio
from opentelemetry.sdk.trace import SpanProcessor

from actors.agent import Agent, AgentRef
from actors.demo import add
from actors.llm import ScriptedConfig, spawn_provider
from actors.observability import Observability, shared_store
from bench._common import emit, parse_args
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["main", "measure"]

ON = RuntimeConfig(telemetry=TelemetryConfig(span_processors=["actors.observability:processor"]))
OFF = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
TRACING_ONLY = RuntimeConfig(telemetry=TelemetryConfig(span_processors=["bench._traces:discard"]))
AGENT = Agent(name="echo", instructions="Add when asked.", model="scripted", tools=[add])


def discard() -> SpanProcessor:
    """A span processor that drops every span: tracing's own cost, with nothing kept."""
    return SpanProcessor()


async def _turns_per_s(config: RuntimeConfig, turns: int) -> float:
    async with open_runtime(config) as rt:
        await spawn_provider(rt, "scripted", ScriptedConfig())
        await rt.spawn(add)
        agent: AgentRef = await rt.spawn(AGENT)
        if config is ON:
            await rt.spawn(Observability, name="observability", kind="observability")
        for _ in range(10):  # warm up
            await agent.generate("please add 2 and 40")
        start = time.perf_counter()
        for _ in range(turns):
            result = await agent.generate("please add 2 and 40")
            if not result.text.startswith("The sum is"):
                raise RuntimeError(f"unexpected answer {result.text!r}")
        return turns / (time.perf_counter() - start)


async def measure(quick: bool = True) -> dict[str, Any]:
    """Interleaved rounds with traces kept and with tracing off; the median ratio."""
    turns, rounds = (200, 5) if quick else (1000, 7)
    rates: dict[str, list[float]] = {"off": [], "tracing_only": [], "on": []}
    ratios: list[float] = []
    shares: list[float] = []
    for _ in range(rounds):
        off = await _turns_per_s(OFF, turns)
        ceiling = await _turns_per_s(TRACING_ONLY, turns)
        on = await _turns_per_s(ON, turns)
        for key, rate in (("off", off), ("tracing_only", ceiling), ("on", on)):
            rates[key].append(rate)
        ratios.append(on / off)
        shares.append(on / ceiling)
    return {
        "traces_on_ratio": round(statistics.median(ratios), 3),
        "storage_vs_tracing_ratio": round(statistics.median(shares), 3),
        **{f"{k}_turns_per_s": round(statistics.median(v), 1) for k, v in rates.items()},
        "traces_kept": len(shared_store()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its summary line."""
    args = parse_args(__doc__ or "traces", argv)
    emit({"bench": "traces", **trio.run(measure, args.quick)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
