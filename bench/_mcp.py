"""MCP client overhead: one tool call through our MCP client's tool actor against the same
call made with the official SDK's ``Client`` alone, each against its own instance of the same
stdio server (``examples/mcp_weather_server.py``, one process per client, as stdio has it).

Calls are sequential (concurrency 1); rounds of SDK and actor calls are interleaved and the
median of the per-round ratios of median latencies is ``mcp_overhead_ratio`` (target <= 1.3).
The runtime runs with tracing off.

    python -m bench._mcp --quick
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio
from mcp import Client, StdioServerParameters

from actors.mcp import McpClientRef, mcp_server
from actors.tools import ToolRef
from bench._common import emit, parse_args, percentile
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

__all__ = ["main", "measure"]

ROOT = Path(__file__).resolve().parents[1]
SERVER = ["-m", "examples.mcp_weather_server"]
ARGS = {"city": "Paris"}

Call = Callable[[], Awaitable[object]]


async def _timed(call: Call, count: int) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def _actor_call(tool: ToolRef) -> None:
    result = await tool.execute(ARGS)
    if not result.ok:
        raise RuntimeError(f"the tool failed: {result.error}")


async def measure(quick: bool = True) -> dict[str, Any]:
    """Interleaved rounds of SDK-only and through-actor calls; returns the summary metrics
    (``mcp_overhead_ratio`` first). Starts two server processes and stops them."""
    calls, rounds = (100, 5) if quick else (1000, 9)
    params = StdioServerParameters(command=sys.executable, args=SERVER, cwd=str(ROOT))
    spec = mcp_server("weather", command=sys.executable, args=SERVER, cwd=str(ROOT))
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt, Client(params) as sdk:
        client: McpClientRef = await rt.spawn(spec)
        (tool,) = [t for t in await client.tools() if t.id == "weather_get_weather"]

        async def sdk_call() -> None:
            result = await sdk.call_tool("get_weather", ARGS)
            if result.is_error:
                raise RuntimeError("the tool failed")

        async def actor_call() -> None:
            await _actor_call(tool)

        await _timed(sdk_call, 20)  # warm both up
        await _timed(actor_call, 20)
        ratios: list[float] = []
        sdk_all: list[float] = []
        actor_all: list[float] = []
        for _ in range(rounds):
            bare = await _timed(sdk_call, calls)
            ours = await _timed(actor_call, calls)
            ratios.append(statistics.median(ours) / statistics.median(bare))
            sdk_all += bare
            actor_all += ours
    return {
        "mcp_overhead_ratio": round(statistics.median(ratios), 3),
        "sdk_p50_us": round(percentile(sdk_all, 0.5) * 1e6, 1),
        "actor_p50_us": round(percentile(actor_all, 0.5) * 1e6, 1),
        "sdk_p99_us": round(percentile(sdk_all, 0.99) * 1e6, 1),
        "actor_p99_us": round(percentile(actor_all, 0.99) * 1e6, 1),
        "calls": len(sdk_all) + len(actor_all),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its summary line."""
    args = parse_args(__doc__ or "mcp", argv)
    metrics = trio.run(measure, args.quick)
    emit({"bench": "mcp", **metrics})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
