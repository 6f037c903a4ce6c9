"""Kernel benchmark: tell, ask, idle-actor memory, restart latency, tracing overhead.

Every figure is compared with a baseline measured in the same run: raw Trio memory
channels doing the same consumer work, and the runtime with telemetry disabled.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

import msgspec
import trio

from bench._common import DiscardSpans, emit, parse_args, percentile, rss_bytes
from runtime import (
    Actor,
    ActorCrashed,
    Mastra,
    RuntimeConfig,
    SupervisionConfig,
    TelemetryConfig,
    open_runtime,
)


class Add(msgspec.Struct, frozen=True, tag=True):
    n: int


class Total(msgspec.Struct, frozen=True, tag=True):
    pass


class Crash(msgspec.Struct, frozen=True, tag=True):
    pass


class Summer(Actor):
    """The consumer work shared by every measurement: add a number to a total."""

    async def on_start(self) -> None:
        self.total = 0

    async def receive(self, msg: Add | Total | Crash) -> int | None:
        match msg:
            case Add(n=n):
                self.total += n
                return n
            case Total():
                return self.total
            case Crash():
                raise RuntimeError("crash loop")


class Idle(Actor):
    async def receive(self, msg: Any) -> None:
        return None


def _config(*, enabled: bool = False, sampling: float = 1.0) -> RuntimeConfig:
    supervision = SupervisionConfig(max_restarts=10**9, within=1.0, backoff_base=0.0)
    base = RuntimeConfig(telemetry=TelemetryConfig(enabled=enabled, sampling=sampling))
    section = msgspec.structs.replace(base.runtime, supervision=supervision)
    return msgspec.structs.replace(base, runtime=section)


async def raw_tell(count: int, capacity: int) -> float:
    send, recv = trio.open_memory_channel[Add](capacity)
    total = 0

    async def consume() -> None:
        nonlocal total
        async for msg in recv:
            total += msg.n

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        async with send:
            for i in range(count):
                await send.send(Add(i))
    return count / (time.perf_counter() - start)


async def actor_tell(rt: Mastra, count: int, capacity: int, name: str) -> float:
    ref = await rt.spawn(Summer, name=name, mailbox=capacity)
    start = time.perf_counter()
    for i in range(count):
        await ref.send(Add(i))
    expected = count * (count - 1) // 2
    assert await ref.ask(Total()) == expected, "lost messages"
    rate = count / (time.perf_counter() - start)
    await rt.stop(ref)
    return rate


async def raw_ask(count: int) -> tuple[float, list[float]]:
    send, recv = trio.open_memory_channel[tuple[Add, trio.MemorySendChannel[int]]](64)

    async def serve() -> None:
        async for msg, reply in recv:
            reply.send_nowait(msg.n)

    samples: list[float] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        start = time.perf_counter()
        for i in range(count):
            t0 = time.perf_counter()
            reply_send, reply_recv = trio.open_memory_channel[int](1)
            await send.send((Add(i), reply_send))
            await reply_recv.receive()
            samples.append(time.perf_counter() - t0)
        rate = count / (time.perf_counter() - start)
        await send.aclose()
    return rate, samples


async def actor_ask(rt: Mastra, count: int) -> tuple[float, list[float]]:
    ref = await rt.spawn(Summer, name="asked")
    samples: list[float] = []
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        await ref.ask(Add(i))
        samples.append(time.perf_counter() - t0)
    rate = count / (time.perf_counter() - start)
    await rt.stop(ref)
    return rate, samples


async def idle_actors(rt: Mastra, count: int) -> tuple[float, float]:
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for i in range(count):
        await rt.spawn(Idle, name=f"idle-{i}")
    spawn_us = (time.perf_counter() - start) / count * 1e6
    gc.collect()
    per_actor = (rss_bytes() - before) / count
    return spawn_us, per_actor


async def restart_latency(rt: Mastra, crashes: int) -> list[float]:
    ref = await rt.spawn(Summer, name="crasher")
    samples: list[float] = []
    for i in range(crashes):
        try:
            await ref.ask(Crash())
        except ActorCrashed:
            t0 = time.perf_counter()
            await ref.ask(Add(i))  # answered by the next incarnation
            samples.append(time.perf_counter() - t0)
    return samples


async def tracing_modes(count: int, capacity: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    modes = {
        "none": _config(),
        "off": _config(enabled=True, sampling=0.0),
        "on": _config(enabled=True, sampling=1.0),
    }
    for _round in range(3):  # interleave rounds so drift hits every mode alike
        for mode, config in modes.items():
            exporter = None if mode == "none" else DiscardSpans()
            async with open_runtime(config, span_exporter=exporter) as rt:
                rate = await actor_tell(rt, count, capacity, f"traced-{mode}")
            rates[mode] = max(rates.get(mode, 0.0), rate)
    return rates


async def main(quick: bool) -> None:
    tells = 20_000 if quick else 300_000
    asks = 10_000 if quick else 100_000
    idle = 10_000 if quick else 100_000
    crashes = 1_000 if quick else 10_000
    capacity = 64
    raw_rates, actor_rates = [], []
    async with open_runtime(_config()) as rt:
        for i in range(3):
            raw_rates.append(await raw_tell(tells, capacity))
            actor_rates.append(await actor_tell(rt, tells, capacity, f"summer-{i}"))
        tell_raw, tell_actor = max(raw_rates), max(actor_rates)
        emit({"case": "tell", "raw_per_s": round(tell_raw), "actor_per_s": round(tell_actor)})
        raw_ask_rate, raw_samples = await raw_ask(asks)
        ask_rate, ask_samples = await actor_ask(rt, asks)
        emit(
            {
                "case": "ask",
                "raw_per_s": round(raw_ask_rate),
                "actor_per_s": round(ask_rate),
                "raw_p99_us": round(percentile(raw_samples, 0.99) * 1e6, 1),
                "p50_us": round(percentile(ask_samples, 0.5) * 1e6, 1),
                "p99_us": round(percentile(ask_samples, 0.99) * 1e6, 1),
            }
        )
        restarts = await restart_latency(rt, crashes)
        emit(
            {
                "case": "restart",
                "crashes": crashes,
                "p50_us": round(percentile(restarts, 0.5) * 1e6, 1),
                "p99_us": round(percentile(restarts, 0.99) * 1e6, 1),
            }
        )
        spawn_us, per_actor = await idle_actors(rt, idle)
        emit(
            {
                "case": "idle",
                "actors": idle,
                "spawn_us": round(spawn_us, 1),
                "bytes_per_actor": round(per_actor),
            }
        )
        lost = sum(rt.stats()[n].failed for n in ("summer-0", "asked") if n in rt.stats())
    rates = await tracing_modes(tells, capacity)
    emit({"case": "tracing", **{f"{k}_per_s": round(v) for k, v in rates.items()}})
    emit(
        {
            "bench": "actors",
            "quick": quick,
            "tell_ratio": round(tell_actor / tell_raw, 3),
            "ask_ratio": round(ask_rate / raw_ask_rate, 3),
            "ask_p99_us": round(percentile(ask_samples, 0.99) * 1e6, 1),
            "idle_actor_bytes": round(per_actor),
            "spawn_us": round(spawn_us, 1),
            "restart_p99_us": round(percentile(restarts, 0.99) * 1e6, 1),
            "trace_off_ratio": round(rates["off"] / rates["none"], 3),
            "trace_on_ratio": round(rates["on"] / rates["none"], 3),
            "lost": lost,
        }
    )


if __name__ == "__main__":
    args = parse_args(__doc__ or "")
    logging.getLogger("runtime").setLevel(logging.CRITICAL)  # the crash loop logs every crash
    trio.run(main, args.quick)
