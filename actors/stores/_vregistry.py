"""The vector store's indexes: opened from SQLite and the saved files, kept in step after commit.

``IndexRegistry`` is thread-side: ``open`` runs once at start; ``after_commit`` runs on the
writer thread after each commit, in commit order, and applies the committed effects to the
in-memory indexes before the writes are acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actors.stores._sql import Database, Failure
from actors.stores._vecsql import (
    Created,
    Dropped,
    IndexRow,
    Removed,
    Upserted,
    index_rows,
    load_all_vectors,
    load_rows,
    load_vectors,
)
from actors.stores._vfiles import open_view, remove_files, save_index
from actors.stores._vindex import HnswOptions, VectorIndex

__all__ = ["IndexRegistry"]


class IndexRegistry:
    """The live ``VectorIndex`` of every stored index, by name.

    With a ``directory`` each index is saved there (see ``_vfiles``) with the change number it
    reflects; at start the files are memory-mapped when they agree with SQLite and repaired
    from SQLite otherwise (a crash after a commit but before a save), or rebuilt from SQLite
    when they are missing or unreadable.
    """

    def __init__(self, db: Database, directory: Path | None, options: HnswOptions) -> None:
        self.db = db
        self.directory = directory
        self.options = options
        self.indexes: dict[str, VectorIndex] = {}
        self.saved: dict[str, int] = {}

    def open(self) -> dict[str, str]:
        """Load every index; return how each was opened (``view``, ``repaired``, ``rebuilt``)."""
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        how: dict[str, str] = {}
        for row in self.db.read(index_rows):
            how[row.name] = self._open_one(row)
        return how

    def _open_one(self, row: IndexRow) -> str:
        index = VectorIndex(row.name, row.dimension, row.metric, self.options)
        rows = self.db.read(lambda conn: load_rows(conn, row.name))
        index.set_rows(rows, row.seq)
        self.indexes[row.name] = index
        saved = None if self.directory is None else open_view(index, self.directory)
        if saved is None:
            vectors = self.db.read(lambda conn: load_all_vectors(conn, row.name, row.dimension))
            if len(vectors) != len(rows.keys):
                raise RuntimeError(f"vector index {row.name!r} changed while it was opened")
            index.repair(np.empty(0, dtype=np.uint64), rows.keys, vectors)
            self.save(row.name)
            return "rebuilt"
        present = index.matrix.contains(rows.keys)
        todo = rows.keys[(rows.seqs > saved) | ~present]
        stale = np.setdiff1d(index.matrix.keys, rows.keys)
        if not len(todo) and not len(stale) and not index.needs_graph():
            self.saved[row.name] = row.seq
            return "view"
        vectors = self.db.read(lambda conn: load_vectors(conn, row.name, todo, row.dimension))
        index.repair(stale, todo, vectors)
        self.save(row.name)
        return "repaired"

    def after_commit(self, ops: Sequence[object], outcomes: Sequence[object]) -> None:
        """Apply the effects of committed writes to the in-memory indexes (writer thread)."""
        del ops
        for effect in outcomes:
            if isinstance(effect, Failure):
                continue
            if isinstance(effect, Created) and effect.index.name not in self.indexes:
                row = effect.index
                self.indexes[row.name] = VectorIndex(
                    row.name, row.dimension, row.metric, self.options
                )
            elif isinstance(effect, Dropped):
                gone = self.indexes.pop(effect.name, None)
                self.saved.pop(effect.name, None)
                if gone is not None and self.directory is not None:
                    remove_files(self.directory, gone.name)
            elif isinstance(effect, Upserted):
                self.indexes[effect.name].apply_upsert(effect)
            elif isinstance(effect, Removed):
                self.indexes[effect.name].apply_remove(effect)

    def save(self, name: str) -> None:
        """Save one index to the directory (no-op without one)."""
        index = self.indexes.get(name)
        if self.directory is None or index is None:
            return
        self.saved[name] = save_index(index, self.directory)

    def save_dirty(self) -> list[str]:
        """Save every index changed since its last save; return their names."""
        dirty = [n for n, ix in list(self.indexes.items()) if self.saved.get(n) != ix.seq]
        for name in dirty:
            self.save(name)
        return dirty
