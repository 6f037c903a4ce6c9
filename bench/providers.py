"""Provider actor overhead against the fake OpenAI server on loopback.

In one run, at concurrency 1 and 32: a non-streamed chat request through the provider actor
vs the same request as a bare ``httpx`` call (``overhead_ratio`` = actor time / bare time),
and time to first token of a streamed request through the actor vs bare ``httpx`` with a
line-by-line SSE read (``ttft_ratio``). The fake server runs in its own process. Rounds of
bare and actor runs are interleaved and the median ratio is reported. The main ratios run
the runtime with tracing off; the ``*_traced`` ratios with every message and model call
traced (100% sampling), which adds the cost of two spans per request.

    python -m bench.providers --quick
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import msgspec
import trio

from actors.llm import OpenAICompatConfig, RetryPolicy, spawn_provider
from actors.llm.messages import ChatRequest, TextDelta, UserMessage
from bench._common import DiscardSpans, emit, parse_args, percentile
from runtime import ActorRef, RuntimeConfig, TelemetryConfig, open_runtime

KEY_ENV = "MASTRA_BENCH_FAKE_KEY"
PROMPT = "tell me something about actors and message passing please"
REQUEST = ChatRequest(messages=[UserMessage(content=PROMPT)], model="gpt-fake")
BODY = {"model": "gpt-fake", "messages": [{"role": "user", "content": PROMPT}]}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}

Call = Callable[[], Awaitable[float]]


def start_server() -> tuple[subprocess.Popen[str], int]:
    """The fake OpenAI server in its own process; returns it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert process.stdout is not None
    port = int(json.loads(process.stdout.readline())["port"])
    return process, port


class Bare:
    """The baseline: the same HTTP calls made directly with one pooled httpx client."""

    def __init__(self, base: str, http: httpx.AsyncClient) -> None:
        self.url = f"{base}/chat/completions"
        self.http = http
        self.headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}

    async def chat(self) -> float:
        start = time.perf_counter()
        body = msgspec.json.encode(BODY)
        response = await self.http.post(self.url, content=body, headers=self.headers)
        response.raise_for_status()
        text = response.json()["choices"][0]["message"]["content"]
        assert text
        return time.perf_counter() - start

    async def ttft(self) -> float:
        start = time.perf_counter()
        first = 0.0
        body = msgspec.json.encode(STREAM_BODY)
        request = self.http.build_request("POST", self.url, content=body, headers=self.headers)
        response = await self.http.send(request, stream=True)
        try:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not first and line.startswith("data: {"):
                    choices = json.loads(line[6:])["choices"]
                    if choices and choices[0]["delta"].get("content"):
                        first = time.perf_counter() - start
        finally:
            await response.aclose()
        assert first
        return first


class ThroughActor:
    """The same calls as ``ChatRequest`` messages to a provider actor."""

    def __init__(self, ref: ActorRef) -> None:
        self.ref = ref

    async def chat(self) -> float:
        start = time.perf_counter()
        result = await self.ref.ask(REQUEST)
        assert result.text
        return time.perf_counter() - start

    async def ttft(self) -> float:
        start = time.perf_counter()
        first = 0.0
        async with self.ref.stream(REQUEST) as chunks:
            async for chunk in chunks:
                if not first and isinstance(chunk, TextDelta):
                    first = time.perf_counter() - start
        assert first
        return first


async def run_batch(call: Call, total: int, concurrency: int) -> tuple[float, list[float], int]:
    """``total`` calls by ``concurrency`` workers: wall time, per-call samples, errors."""
    samples: list[float] = []
    errors = 0
    remaining = total

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            try:
                samples.append(await call())
            except Exception:
                errors += 1

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)
    return time.perf_counter() - start, samples, errors


async def compare(
    name: str, bare: Call, actor: Call, *, total: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    """Interleaved rounds of both; the median ratio of wall times (chat) or medians (ttft)."""
    ratios: list[float] = []
    bare_samples: list[float] = []
    actor_samples: list[float] = []
    errors = 0
    for _ in range(rounds):
        b_wall, b, b_err = await run_batch(bare, total, concurrency)
        a_wall, a, a_err = await run_batch(actor, total, concurrency)
        errors += b_err + a_err
        bare_samples += b
        actor_samples += a
        if name == "chat":
            ratios.append(a_wall / b_wall)
        else:
            ratios.append(statistics.median(a) / statistics.median(b))
    return {
        "case": name,
        "concurrency": concurrency,
        "ratio": round(statistics.median(ratios), 3),
        "bare_p50_us": round(percentile(bare_samples, 0.5) * 1e6, 1),
        "actor_p50_us": round(percentile(actor_samples, 0.5) * 1e6, 1),
        "bare_p99_us": round(percentile(bare_samples, 0.99) * 1e6, 1),
        "actor_p99_us": round(percentile(actor_samples, 0.99) * 1e6, 1),
        "requests": len(bare_samples) + len(actor_samples),
        "errors": errors,
    }


async def bench(port: int, quick: bool, tracing: bool) -> dict[str, Any]:
    """Both cases at concurrency 1 and 32 with the runtime's tracing on or off."""
    base = f"http://127.0.0.1:{port}/v1"
    total, rounds = (64, 3) if quick else (1000, 9)
    runtime_config = RuntimeConfig(telemetry=TelemetryConfig(enabled=tracing))
    os.environ[KEY_ENV] = "sk-bench"
    config = OpenAICompatConfig(
        vendor="openai",
        base_url=base,
        api_key_env=KEY_ENV,
        model="gpt-fake",
        retry=RetryPolicy(max_retries=0),
    )
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    results: dict[str, Any] = {}
    async with (
        open_runtime(runtime_config, span_exporter=DiscardSpans() if tracing else None) as rt,
        httpx.AsyncClient(limits=limits, timeout=30.0) as http,
    ):
        ref = await spawn_provider(rt, "openai", config)
        bare, actor = Bare(base, http), ThroughActor(ref)
        await run_batch(bare.chat, 64, 32)  # warm both pools up
        await run_batch(actor.chat, 64, 32)
        for concurrency in (1, 32):
            for name, b, a in (("chat", bare.chat, actor.chat), ("ttft", bare.ttft, actor.ttft)):
                row = await compare(name, b, a, total=total, concurrency=concurrency, rounds=rounds)
                emit({"bench": "providers", "tracing": tracing, **row})
                results[f"{name}_c{concurrency}"] = row
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "providers", argv)
    process, port = start_server()
    try:
        plain = trio.run(bench, port, args.quick, False)
        traced = trio.run(bench, port, args.quick, True)
    finally:
        process.terminate()
        process.wait(timeout=10)
    summary: dict[str, Any] = {"bench": "providers"}
    for suffix, results in (("", plain), ("_traced", traced)):
        for case, key in (("chat", "overhead_ratio"), ("ttft", "ttft_ratio")):
            ratios = {c: results[f"{case}_c{c}"]["ratio"] for c in (1, 32)}
            summary[f"{key}{suffix}"] = max(ratios.values())
            summary[f"{key}_c1{suffix}"] = ratios[1]
            summary[f"{key}_c32{suffix}"] = ratios[32]
    summary["errors"] = sum(r["errors"] for res in (plain, traced) for r in res.values())
    emit(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
