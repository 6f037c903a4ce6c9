"""Checkpoints run on their own thread and keep the WAL bounded."""

from __future__ import annotations

import os
from pathlib import Path

import apsw

from actors.stores._checkpoint import Checkpointer
from actors.stores._sql import Database
from actors.stores._writes import apply_write
from actors.stores.messages import Put


def test_the_wal_stays_short_while_commits_go_on(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.db")
    db = Database(path, synchronous="normal")
    checkpointer = db._checkpointer
    assert checkpointer is not None
    pad = "x" * 3000  # about a page per commit
    for i in range(3000):
        db.write_batch([Put(collection="c", id=str(i), data=pad)], apply_write)
    assert checkpointer.checkpoints >= 1
    # Past 4000 pages the writer catches up itself; without checkpoints: a 60 MB WAL.
    assert os.path.getsize(path + "-wal") < 6 * 1000 * 4096
    db.close()

    conn = apsw.Connection(path)
    assert conn.execute("SELECT count(*) FROM records").fetchall() == [(3000,)]
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_checkpointer_only_wakes_past_its_threshold(tmp_path: Path) -> None:
    path = str(tmp_path / "few.db")
    writer = apsw.Connection(path)
    writer.execute("PRAGMA journal_mode = WAL").fetchall()
    checkpointer = Checkpointer(path, threshold=50)
    checkpointer.attach(writer)
    writer.execute("CREATE TABLE t (v TEXT)")
    for i in range(10):
        writer.execute("INSERT INTO t VALUES (?)", (str(i),))
    checkpointer.close()
    assert checkpointer.checkpoints == 0
    writer.close()
