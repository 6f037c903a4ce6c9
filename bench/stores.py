"""Store benchmarks, each against a baseline measured in the same run.

``python -m bench.stores [--quick]`` prints JSON lines; the last one is the summary with:

- ``group_commit_ratio``: acknowledged writes/s through the store actor with 64 concurrent
  writers vs one autocommit insert per write (median of interleaved rounds);
- ``group_commit_ceiling_ratio``: 64 rows per transaction with a bare ``executemany`` and no
  actor, about the most group commit can reach with 64 writers, vs the same baseline;
- ``group_commit_vs_ceiling``: the store actor's write throughput over that ceiling, round by
  round (median): how much of what SQLite allows the actor delivers;
- ``group_commit_vs_floor``: the same over the least any store actor on this kernel could
  cost, measured in the same rounds: the store's own statements applied 64 to a transaction
  with no actor (``store_sql_writes_per_s``: its upsert, timestamps and JSON, where the
  ceiling inserts bare rows), plus an empty ``ask`` to a pool actor with 64 askers
  (``kernel_asks_per_s``), one after the other as the GIL makes them;
- ``recall_at_10`` and ``qps_ratio``: the vector actor with 64 concurrent askers vs exact
  numpy search one query at a time, on 100k random unit vectors of dimension 384 (also with
  ``--quick``, which asks fewer queries; the vectors line also has the lone-asker rate);
- ``hnsw_recall_at_10`` and ``hnsw_qps_ratio``: the same on 20k vectors (2k with
  ``--quick``) with the HNSW graph forced on by ``exact_threshold=0``;
- ``cosine_ratio`` (numpy vs plain Python on 1536-d vectors) and ``json_ratio`` (msgspec vs
  the stdlib ``json`` round trip of a chat request).
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import apsw
import msgspec
import numpy as np
import numpy.typing as npt
import trio

from actors.stores import SqliteStore, VectorStore
from actors.stores._sql import Database
from actors.stores._writes import apply_write
from actors.stores.messages import Put
from actors.stores.vector_messages import CreateIndex, Query, Upsert
from bench._common import emit, parse_args
from runtime import Actor, ActorRef, Mastra, RuntimeConfig, TelemetryConfig, open_runtime

F32 = npt.NDArray[np.float32]
WRITERS = 64
VECTOR_CLIENTS = 64


# -- (a) group commit ----------------------------------------------------------------------
def _bare_table(path: str) -> apsw.Connection:
    conn = apsw.Connection(path)
    conn.execute("PRAGMA journal_mode = WAL").fetchall()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    return conn


def autocommit_inserts(path: str, count: int, round_: int) -> float:
    """Baseline: one autocommit INSERT per write on a WAL database with synchronous=FULL."""
    conn = _bare_table(path)
    payload = json.dumps({"i": 0, "pad": "x" * 64})
    start = time.perf_counter()
    for i in range(count):
        conn.execute("INSERT INTO t VALUES (?, ?)", (f"{round_}-{i}", payload))
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def batched_inserts(path: str, batches: int, round_: int) -> float:
    """Ceiling: ``WRITERS`` rows per transaction with one ``executemany``, no actor at all.

    With ``WRITERS`` writers that each wait for their own acknowledgement, no batch can hold
    more than ``WRITERS`` writes, so this is about the most any store actor could reach.
    """
    conn = _bare_table(path)
    start = time.perf_counter()
    for b in range(batches):
        rows = [
            (f"{round_}-{b}-{w}", json.dumps({"i": b, "pad": "x" * 64})) for w in range(WRITERS)
        ]
        with conn:
            conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return batches * WRITERS / elapsed


def store_statements(db: Database, batches: int, round_: int) -> float:
    """Writes/s of the store's own ``Put`` statements, ``WRITERS`` to a transaction, applied
    straight to its database: the SQL part of a store write with no actor and no hand-off."""
    start = time.perf_counter()
    for b in range(batches):
        ops = [
            Put(collection="f", id=f"{round_}-{b}-{w}", data={"i": b, "pad": "x" * 64})
            for w in range(WRITERS)
        ]
        db.write_batch(ops, apply_write)
    return batches * WRITERS / (time.perf_counter() - start)


class _Echo(Actor):
    """A pool actor that answers each ask with the message: the kernel's part of a write."""

    concurrency = SqliteStore.concurrency

    async def receive(self, msg: object) -> object:
        return msg


async def actor_writes(store: ActorRef, per_writer: int, round_: int) -> float:
    """Acknowledged writes/s through the store actor with ``WRITERS`` concurrent writers."""

    async def writer(w: int) -> None:
        for i in range(per_writer):
            data = {"i": i, "pad": "x" * 64}
            await store.ask(Put(collection="b", id=f"{round_}-{w}-{i}", data=data))

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for w in range(WRITERS):
            nursery.start_soon(writer, w)
    return WRITERS * per_writer / (time.perf_counter() - start)


async def kernel_asks(echo: ActorRef, per_writer: int) -> float:
    """Asks/s answered by ``echo`` with ``WRITERS`` concurrent askers."""

    async def asker() -> None:
        for i in range(per_writer):
            await echo.ask(i)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(WRITERS):
            nursery.start_soon(asker)
    return WRITERS * per_writer / (time.perf_counter() - start)


async def group_commit(rt: Mastra, quick: bool, directory: Path) -> dict[str, float]:
    """Interleaved rounds of baseline, actor and ceiling (fsync latency drifts with the
    machine's disk load, so each round compares like with like); median ratios."""
    per_writer, rounds = (20, 5) if quick else (100, 7)
    store = await rt.spawn(SqliteStore, str(directory / "store.db"), name="gc", kind="store")
    echo = await rt.spawn(_Echo, name="gc-echo")
    floor_db = await trio.to_thread.run_sync(Database, str(directory / "floor.db"))
    ratios: list[float] = []
    ceilings: list[float] = []
    shares: list[float] = []
    floor_shares: list[float] = []
    for r in range(rounds):
        base = await trio.to_thread.run_sync(
            autocommit_inserts, str(directory / "base.db"), 10 * per_writer, r
        )
        rate = await actor_writes(store, per_writer, r)
        ceiling = await trio.to_thread.run_sync(
            batched_inserts, str(directory / "ceiling.db"), per_writer, r
        )
        sql = await trio.to_thread.run_sync(store_statements, floor_db, per_writer, r)
        asks = await kernel_asks(echo, per_writer)
        floor = 1 / (1 / sql + 1 / asks)
        emit(
            {
                "case": "group_commit",
                "round": r,
                "actor_writes_per_s": rate,
                "autocommit_writes_per_s": base,
                "batched_ceiling_writes_per_s": ceiling,
                "store_sql_writes_per_s": sql,
                "kernel_asks_per_s": asks,
            }
        )
        ratios.append(rate / base)
        ceilings.append(ceiling / base)
        shares.append(rate / ceiling)
        floor_shares.append(rate / floor)
    batches, writes = store._cell.instance.commit_stats  # type: ignore[union-attr]
    emit({"case": "group_commit", "writes_per_commit": writes / max(batches, 1)})
    await rt.stop(store)
    await rt.stop(echo)
    await trio.to_thread.run_sync(floor_db.close)
    return {
        "group_commit_ratio": statistics.median(ratios),
        "group_commit_ceiling_ratio": statistics.median(ceilings),
        "group_commit_vs_ceiling": statistics.median(shares),
        "group_commit_vs_floor": statistics.median(floor_shares),
    }


# -- (b) vectors ---------------------------------------------------------------------------
def unit_vectors(rng: np.random.Generator, n: int, d: int) -> F32:
    x = rng.standard_normal((n, d), dtype=np.float32)
    out: F32 = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top10(data: F32, queries: F32) -> tuple[list[set[int]], float]:
    """Baseline: exact cosine search with numpy, one query at a time; (answers, qps)."""
    answers: list[set[int]] = []
    start = time.perf_counter()
    for q in queries:
        scores = data @ q
        best = np.argpartition(-scores, 10)[:10]
        answers.append(set(best.tolist()))
    return answers, len(queries) / (time.perf_counter() - start)


async def load_vectors(store: ActorRef, data: F32) -> float:
    """Seconds to create the index and upsert ``data`` in batches of 2,000 (acknowledged)."""
    await store.ask(CreateIndex(index_name="bench", dimension=data.shape[1]))
    start = time.perf_counter()
    batch = 2000
    for lo in range(0, len(data), batch):
        chunk = data[lo : lo + batch]
        ids = [str(i) for i in range(lo, lo + len(chunk))]
        await store.ask(Upsert(index_name="bench", ids=ids, vectors=chunk.tolist()))
    return time.perf_counter() - start


async def actor_queries(
    store: ActorRef, queries: F32, clients: int
) -> tuple[list[set[int]], float]:
    """The vector actor's answers and queries/s with ``clients`` concurrent askers."""
    answers: list[set[int]] = [set() for _ in queries]
    lists = [q.tolist() for q in queries]

    async def client(c: int) -> None:
        for i in range(c, len(lists), clients):
            hits = await store.ask(Query(index_name="bench", query_vector=lists[i], top_k=10))
            answers[i] = {int(h.id) for h in hits}

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for c in range(clients):
            nursery.start_soon(client, c)
    return answers, len(queries) / (time.perf_counter() - start)


def recall(exact: list[set[int]], found: list[set[int]]) -> float:
    """Recall@10 of ``found`` against the exact answers."""
    return sum(len(e & f) for e, f in zip(exact, found, strict=True)) / (10 * len(exact))


async def vector_case(
    rt: Mastra, path: str, n: int, n_queries: int, **options: Any
) -> dict[str, Any]:
    """Recall@10 and queries/s of the vector actor vs one-query-at-a-time numpy search."""
    rng = np.random.default_rng(n)
    data, queries = unit_vectors(rng, n, 384), unit_vectors(rng, n_queries, 384)
    exact, exact_qps = await trio.to_thread.run_sync(exact_top10, data, queries)
    factory = partial(VectorStore, path, synchronous="normal", **options)
    store = await rt.spawn(factory, name=f"bench-vectors-{n}", kind="store")
    build = await load_vectors(store, data)
    # warm up: the first batches pay one-time costs (worker threads, the actor's task pool)
    await actor_queries(store, queries[: 3 * VECTOR_CLIENTS], VECTOR_CLIENTS)
    found, actor_qps = await actor_queries(store, queries, VECTOR_CLIENTS)
    lone = queries[: max(20, n_queries // 10)]
    _, lone_qps = await actor_queries(store, lone, 1)
    await rt.stop(store)
    return {
        "n": n,
        "dimension": 384,
        "build_s": build,
        "clients": VECTOR_CLIENTS,
        "actor_qps": actor_qps,
        "actor_qps_1_client": lone_qps,
        "exact_numpy_qps": exact_qps,
        "qps_ratio": actor_qps / exact_qps,
        "qps_ratio_1_client": lone_qps / exact_qps,
        "recall_at_10": recall(exact, found),
    }


async def vectors(rt: Mastra, quick: bool, directory: Path) -> dict[str, Any]:
    """Part (b): the default store (exact scan below its HNSW threshold) and the HNSW path."""
    n, n_queries = (100_000, 256) if quick else (100_000, 1024)
    main = await vector_case(rt, str(directory / "vectors.db"), n, n_queries)
    emit({"case": "vectors", **main})
    n_graph, graph_queries = (2_000, 128) if quick else (20_000, 256)
    graph = await vector_case(
        rt, str(directory / "graph.db"), n_graph, graph_queries, exact_threshold=0
    )
    emit({"case": "vectors_hnsw", **graph})
    return {
        "recall_at_10": main["recall_at_10"],
        "qps_ratio": main["qps_ratio"],
        "hnsw_recall_at_10": graph["recall_at_10"],
        "hnsw_qps_ratio": graph["qps_ratio"],
    }


# -- (c) micro-benchmarks --------------------------------------------------------------------
def best_rate(fn: Callable[[], object], rounds: int, repeat: int = 5) -> float:
    """Calls per second of ``fn`` (best of ``repeat`` timings of ``rounds`` calls)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, time.perf_counter() - start)
    return rounds / best


def cosine_python(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def cosine_numpy(a: F32, b: F32) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    content: str
    name: str | None = None


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    parameters: dict[str, Any]


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: list[ChatMessage]
    tools: list[ToolSpec] = []
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = False


def chat_request_json() -> bytes:
    messages = [{"role": "system", "content": "You are a helpful assistant. " * 4}]
    for i in range(10):
        messages.append({"role": "user", "content": f"Question {i}: what is the weather in Paris?"})
        messages.append(
            {"role": "assistant", "content": f"Answer {i}: sunny, 21 degrees, light wind."}
        )
    tool = {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    body = {
        "model": "gpt-4o-mini",
        "messages": messages,
        "tools": [tool],
        "temperature": 0.2,
        "max_tokens": 256,
    }
    return json.dumps(body).encode()


def micro(quick: bool) -> dict[str, float]:
    rng = np.random.default_rng(3)
    a, b = (
        rng.standard_normal(1536).astype(np.float32),
        rng.standard_normal(1536).astype(np.float32),
    )
    la, lb = a.tolist(), b.tolist()
    rounds = 300 if quick else 3000
    py = best_rate(lambda: cosine_python(la, lb), rounds)
    vec = best_rate(lambda: cosine_numpy(a, b), rounds * 10)
    raw = chat_request_json()
    decoder, encoder = msgspec.json.Decoder(ChatRequest), msgspec.json.Encoder()
    std = best_rate(lambda: json.dumps(json.loads(raw)), rounds * 3)
    fast = best_rate(lambda: encoder.encode(decoder.decode(raw)), rounds * 3)
    return {
        "cosine_python_per_s": py,
        "cosine_numpy_per_s": vec,
        "json_stdlib_per_s": std,
        "json_msgspec_per_s": fast,
    }


# -- main ------------------------------------------------------------------------------------
async def run(quick: bool, directory: Path) -> dict[str, Any]:
    summary: dict[str, Any] = {"bench": "stores"}
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        summary |= await group_commit(rt, quick, directory)

        summary |= await vectors(rt, quick, directory)

    m = await trio.to_thread.run_sync(micro, quick)
    emit({"case": "micro", **m})
    summary["cosine_ratio"] = m["cosine_numpy_per_s"] / m["cosine_python_per_s"]
    summary["json_ratio"] = m["json_msgspec_per_s"] / m["json_stdlib_per_s"]
    summary["targets"] = {"group_commit_vs_ceiling": 0.5}
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(__doc__ or "stores benchmark", argv)
    with tempfile.TemporaryDirectory(prefix="bench-stores-") as tmp:
        summary = trio.run(run, bool(args.quick), Path(tmp))
    emit({k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
