"""A child process for the crash tests: writes through the store actors until it is killed.

``python -m tests.actors.stores.crash_child DIR ROUND`` prints ``ready`` once both stores are
open, then ``S <id>`` after each acknowledged record write and ``V <id>`` after each
acknowledged vector upsert, flushing every line.
"""

from __future__ import annotations

import functools
import sys
import zlib

import numpy as np
import trio

from actors.stores import SqliteStore, VectorStore
from actors.stores.messages import Put
from actors.stores.vector_messages import CreateIndex, Upsert
from runtime import ActorRef, RuntimeConfig, TelemetryConfig, open_runtime

DIMENSION = 16


def vector_for(vector_id: str) -> list[float]:
    """The unit vector written for ``vector_id`` (the parent recomputes it)."""
    rng = np.random.default_rng(zlib.crc32(vector_id.encode()))
    v = rng.standard_normal(DIMENSION)
    return [float(x) for x in v / np.linalg.norm(v)]


def report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def write_records(store: ActorRef, prefix: str) -> None:
    for i in range(1_000_000):
        record_id = f"{prefix}-{i}"
        await store.ask(Put(collection="crash", id=record_id, data={"i": i, "pad": "x" * 64}))
        report(f"S {record_id}")


async def write_vectors(vectors: ActorRef, prefix: str) -> None:
    for i in range(1_000_000):
        ids = [f"{prefix}-{i}-{j}" for j in range(4)]
        await vectors.ask(
            Upsert(
                index_name="crash",
                ids=ids,
                vectors=[vector_for(x) for x in ids],
                metadata=[{"n": i}] * 4,
            )
        )
        for vector_id in ids:
            report(f"V {vector_id}")


async def main(directory: str, round_number: str) -> None:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as rt:
        store = await rt.spawn(SqliteStore, f"{directory}/store.db", name="store", kind="store")
        vectors = await rt.spawn(
            functools.partial(VectorStore, f"{directory}/vectors.db", save_interval=0.05),
            name="vectors",
            kind="store",
        )
        await vectors.ask(CreateIndex(index_name="crash", dimension=DIMENSION))
        report("ready")
        async with trio.open_nursery() as nursery:
            for writer in range(8):
                nursery.start_soon(write_records, store, f"r{round_number}w{writer}")
            for writer in range(4):
                nursery.start_soon(write_vectors, vectors, f"r{round_number}v{writer}")


if __name__ == "__main__":
    trio.run(main, sys.argv[1], sys.argv[2])
