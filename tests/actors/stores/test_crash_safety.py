"""SIGKILL a process that writes through the store actors; nothing acknowledged may be lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

from actors.stores import VectorStore
from actors.stores._sql import Database
from actors.stores.vector_messages import Query
from runtime import Mastra
from tests.actors.stores.crash_child import vector_for

ROOT = Path(__file__).resolve().parents[3]
KILLS = 20


def run_and_kill(directory: Path, round_number: int, delay: float) -> tuple[set[str], set[str]]:
    """Start the child, SIGKILL it ``delay`` seconds after it is ready; return acked ids."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.actors.stores.crash_child",
            str(directory),
            str(round_number),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    ready = child.stdout.readline()
    if ready != b"ready\n":
        child.kill()
        raise AssertionError(f"child failed: {ready!r} {child.stderr.read()!r}")  # type: ignore[union-attr]
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    records: set[str] = set()
    vectors: set[str] = set()
    for line in out.decode().split("\n"):  # a line cut by the kill has no newline yet: ignored
        kind, _, ident = line.partition(" ")
        if kind == "S":
            records.add(ident)
        elif kind == "V":
            vectors.add(ident)
    if not out.endswith(b"\n") and out:
        last = out.decode().rsplit("\n", 1)[-1].partition(" ")[2]
        records.discard(last)
        vectors.discard(last)
    return records, vectors


def stored_records(path: Path) -> tuple[set[str], list[str]]:
    db = Database(str(path), readers=1)
    try:
        ids = db.read(
            lambda c: {r[0] for r in c.execute("SELECT id FROM records WHERE collection = 'crash'")}
        )
        check = db.read(lambda c: [r[0] for r in c.execute("PRAGMA integrity_check")])
    finally:
        db.close()
    return ids, check


@pytest.mark.slow
async def test_sigkill_loses_no_acknowledged_write(rt: Mastra, tmp_path: Path) -> None:
    rng = random.Random(20240605)
    acked_records: set[str] = set()
    acked_vectors: set[str] = set()
    sample = random.Random(7)
    for round_number in range(KILLS):
        delay = rng.uniform(0.0, 0.4)
        records, vectors = await trio.to_thread.run_sync(
            run_and_kill, tmp_path, round_number, delay
        )
        acked_records |= records
        acked_vectors |= vectors
        present, check = await trio.to_thread.run_sync(stored_records, tmp_path / "store.db")
        assert check == ["ok"]
        assert acked_records <= present, (
            f"round {round_number} lost {sorted(acked_records - present)[:5]}"
        )
        store = await rt.spawn(
            VectorStore, str(tmp_path / "vectors.db"), name=f"v{round_number}", kind="store"
        )
        try:
            fresh = sorted(vectors)
            probe = fresh[-30:] + sample.sample(sorted(acked_vectors), min(20, len(acked_vectors)))
            for vector_id in probe:
                [hit] = await store.ask(
                    Query(index_name="crash", query_vector=vector_for(vector_id), top_k=1)
                )
                assert hit.id == vector_id and hit.score > 0.999, (
                    f"round {round_number}: {vector_id}"
                )
        finally:
            await rt.stop(store)
    assert len(acked_records) > 100 and len(acked_vectors) > 100
