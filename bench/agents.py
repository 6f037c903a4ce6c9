"""Agent overhead and memory footprint with the scripted model (no network).

In one run: (1) an agent turn with one tool call and memory on (``add 2 and 40``: two model
calls, one tool call, history loaded and the turn stored in a file-backed SQLite store) vs
the same two provider calls and the tool function called directly by the benchmark
(``agent_overhead_ratio`` = agent time per turn / direct time per turn), and the least any
durable agent could reach: the direct calls plus one commit of the turn's four messages
straight to SQLite, with no actor and no thread (``bare_commit_floor_ratio``), and the
direct calls followed by that commit on a worker thread, since SQLite may not block the
Trio thread, timed turn by turn in the same rounds as the agent (``durable_floor_ratio``;
``summed_floor_ratio`` adds a commit and a thread round trip timed apart, each in a loop of
its own, which misses what a hand-off costs between other work), and how far the agent is
from that floor (``agent_vs_durable_floor``: agent time per turn / floor time per turn, the
median over rounds); (2) many concurrent conversations of five turns each, reporting
resident memory per live conversation (``bytes_per_conversation``, the messages themselves
live in the SQLite file).

    python -m bench.agents --quick
"""

from __future__ import annotations

import dataclasses
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from actors.agent import Agent, AgentRef
from actors.demo import add
from actors.llm import ScriptedConfig, spawn_provider
from actors.llm.messages import (
    AssistantMessage,
    ChatRequest,
    ChatResult,
    SystemMessage,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)
from actors.memory import Memory
from actors.stores import SqliteStore
from actors.stores._sql import Database
from actors.stores._writes import apply_write
from actors.stores.messages import (
    EnsureThread,
    GetMessages,
    MessageRecord,
    NewMessage,
    SaveMessages,
    StoreWrite,
)
from bench._common import HandOff, emit, parse_args, rss_bytes, thread_round_trip
from runtime import ActorRef, RuntimeConfig, TelemetryConfig, open_runtime

PROMPT = "please add 2 and 40"
INSTRUCTIONS = "You add numbers."
TOOL = ToolDefinition(name=add.id, description=add.description, parameters=add.input_schema)


async def direct_turn(model: ActorRef) -> None:
    """The baseline: the provider calls and the tool call of one turn, made directly."""
    messages: list[Any] = [SystemMessage(content=INSTRUCTIONS), UserMessage(content=PROMPT)]
    first: ChatResult = await model.ask(ChatRequest(messages=messages, tools=[TOOL]))
    (call,) = first.tool_calls
    value = add.fn(**{k: float(v) for k, v in call.parsed_arguments().items()})
    messages += [
        AssistantMessage(tool_calls=list(first.tool_calls)),
        ToolMessage(tool_call_id=call.id, content=f'{{"sum": {value.sum}}}', name=add.id),
    ]
    second: ChatResult = await model.ask(ChatRequest(messages=messages, tools=[TOOL]))
    if not second.text.startswith("The sum is"):
        raise RuntimeError(f"unexpected answer {second.text!r}")


async def agent_turn(agent: AgentRef, index: int) -> None:
    """One agent turn with memory on, in a thread of its own every ten turns."""
    result = await agent.generate(PROMPT, thread=f"bench-{index // 10}", resource="bench")
    if not result.text.startswith("The sum is"):
        raise RuntimeError(f"unexpected answer {result.text!r}")


def turn_writes(stored: list[MessageRecord], turn: int, tag: str) -> list[StoreWrite]:
    """One turn's commit: copies of ``stored`` under new ids, in a thread of its own every
    ten turns (created with the first of them), as the agent's turns are."""
    thread = f"{tag}-{turn // 10}"
    batch = SaveMessages(
        messages=[
            NewMessage(
                id=f"{tag}-{turn}-{m.id}",
                thread_id=thread,
                resource_id=m.resource_id,
                role=m.role,
                content=m.content,
                type=m.type,
            )
            for m in stored
        ]
    )
    ops: list[StoreWrite] = [batch]
    if turn % 10 == 0:
        ops.insert(0, EnsureThread(id=thread, resource_id="bench"))
    return ops


def commit_cost(db: Database, stored: list[MessageRecord], turns: int) -> float:
    """Seconds per commit of one turn's messages written straight to a database of the same
    schema and settings: no actor, no thread hop. Any agent whose turn is durable once it
    replies pays at least this on top of the direct calls."""
    start = time.perf_counter()
    for turn in range(turns):
        db.write_batch(turn_writes(stored, turn, "bare"), apply_write)
    return (time.perf_counter() - start) / turns


class FloorTurns:
    """The least a durable turn costs: the direct calls, then the turn's messages committed
    on a worker thread (SQLite may not block the Trio thread), with no actor of ours."""

    def __init__(self, model: ActorRef, db: Database, stored: list[MessageRecord]) -> None:
        self.model = model
        self.db = db
        self.stored = stored
        self.count = 0

    async def turn(self, thread: HandOff) -> None:
        """One floor turn."""
        await direct_turn(self.model)
        ops = turn_writes(self.stored, self.count, "floor")
        self.count += 1
        await thread.run(partial(self.db.write_batch, ops, apply_write))


async def overhead(
    turns: int, rounds: int, *, agent: AgentRef, bare: AgentRef, floor: FloorTurns
) -> dict[str, Any]:
    """Interleaved rounds of direct turns, agent turns with memory, agent turns without
    memory (``bare``) and floor turns; the median ratios of their times to the direct ones,
    and of the agent's to the floor's."""
    ratios: list[float] = []
    bare_ratios: list[float] = []
    floor_ratios: list[float] = []
    over_floor: list[float] = []
    direct_rates: list[float] = []
    agent_rates: list[float] = []
    counter = 0

    async def timed(turn: Callable[[], Awaitable[object]]) -> float:
        start = time.perf_counter()
        for _ in range(turns):
            await turn()
        return time.perf_counter() - start

    async def next_agent_turn() -> None:
        nonlocal counter
        await agent_turn(agent, counter)
        counter += 1

    async with HandOff() as thread:
        for _ in range(rounds):
            direct = await timed(partial(direct_turn, floor.model))
            agentic = await timed(next_agent_turn)
            without_memory = await timed(partial(bare.generate, PROMPT))
            least = await timed(partial(floor.turn, thread))
            ratios.append(agentic / direct)
            bare_ratios.append(without_memory / direct)
            floor_ratios.append(least / direct)
            over_floor.append(agentic / least)
            direct_rates.append(turns / direct)
            agent_rates.append(turns / agentic)
    return {
        "direct_turns_per_s": round(statistics.median(direct_rates), 1),
        "agent_turns_per_s": round(statistics.median(agent_rates), 1),
        "agent_overhead_ratio": round(statistics.median(ratios), 3),
        "no_memory_overhead_ratio": round(statistics.median(bare_ratios), 3),
        "durable_floor_ratio": round(statistics.median(floor_ratios), 3),
        "agent_vs_durable_floor": round(statistics.median(over_floor), 3),
    }


async def conversations(agent: AgentRef, count: int, turns: int) -> dict[str, Any]:
    """``count`` conversations of ``turns`` turns each, all live at once."""
    gc.collect()
    before = rss_bytes()
    peak = before
    start = time.perf_counter()

    async def converse(index: int) -> None:
        for turn in range(turns):
            text = f"conversation {index} turn {turn}"
            await agent.generate(text, thread=f"c-{index}", resource=f"user-{index}")

    async with trio.open_nursery() as nursery:
        for index in range(count):
            nursery.start_soon(converse, index)
        while nursery.child_tasks:
            peak = max(peak, rss_bytes())
            await trio.sleep(0.05)
    elapsed = time.perf_counter() - start
    return {
        "conversations": count,
        "turns_per_conversation": turns,
        "conversation_turns_per_s": round(count * turns / elapsed, 1),
        "bytes_per_conversation": round((peak - before) / count),
    }


async def run(quick: bool) -> None:
    """Spawn the scripted model, a file-backed store and the agent; run both measurements."""
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    with tempfile.TemporaryDirectory() as scratch:
        async with open_runtime(config) as rt:
            model = await spawn_provider(rt, "scripted", ScriptedConfig())
            path = os.path.join(scratch, "bench.db")
            await rt.spawn(
                partial(SqliteStore, path, synchronous="normal"), name="store", kind="store"
            )
            spec = Agent(
                name="bench",
                instructions=INSTRUCTIONS,
                model="scripted",
                tools=[add],
                memory=Memory(last_messages=10),
            )
            agent = await rt.spawn(spec)
            bare = await rt.spawn(dataclasses.replace(spec, name="bare", memory=None))
            for index in range(20):  # warm-up
                await direct_turn(model)
                await agent_turn(agent, -1 - index)
            store = rt.lookup("store", kind="store")
            assert store is not None
            stored = (await store.ask(GetMessages(thread_id="bench--1")))[-4:]
            floor_db = Database(os.path.join(scratch, "floor.db"), synchronous="normal")
            try:
                turns, rounds = (100, 3) if quick else (500, 5)
                floor = FloorTurns(model, floor_db, stored)
                cost = await overhead(turns, rounds, agent=agent, bare=bare, floor=floor)
                emit({"measure": "overhead", "turns": turns, "rounds": rounds, **cost})
                commit = commit_cost(floor_db, stored, turns)
            finally:
                floor_db.close()
            hop = await thread_round_trip(10 * turns)
            direct = 1 / cost["direct_turns_per_s"]
            cost["bare_commit_floor_ratio"] = round(1 + commit / direct, 3)
            cost["summed_floor_ratio"] = round(1 + (commit + hop) / direct, 3)
            emit(
                {
                    "measure": "durable_floor",
                    "commit_us": round(commit * 1e6, 1),
                    "thread_round_trip_us": round(hop * 1e6, 1),
                }
            )
            live = await conversations(agent, 1000, 5)
            emit({"measure": "conversations", **live})
    emit(
        {
            "bench": "agents",
            "agent_overhead_ratio": cost["agent_overhead_ratio"],
            "no_memory_overhead_ratio": cost["no_memory_overhead_ratio"],
            "bare_commit_floor_ratio": cost["bare_commit_floor_ratio"],
            "durable_floor_ratio": cost["durable_floor_ratio"],
            "summed_floor_ratio": cost["summed_floor_ratio"],
            "agent_vs_durable_floor": cost["agent_vs_durable_floor"],
            "agent_turns_per_s": cost["agent_turns_per_s"],
            "direct_turns_per_s": cost["direct_turns_per_s"],
            "bytes_per_conversation": live["bytes_per_conversation"],
            "targets": {
                "agent_overhead_ratio": 2.0,
                "agent_vs_durable_floor": 1.5,
                "bytes_per_conversation": 50_000,
            },
        }
    )


def main() -> None:
    """Entry point: ``python -m bench.agents [--quick]``."""
    args = parse_args(__doc__ or "agents benchmark")
    trio.run(run, args.quick)


if __name__ == "__main__":
    main()
