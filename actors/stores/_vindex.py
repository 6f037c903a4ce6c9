"""One in-memory vector index: a usearch HNSW index plus the id and metadata maps around it.

Methods block and run on worker threads. Mutations (``apply_*``, ``save``) hold the write
side of a readers-writer lock; queries hold the read side, so queries run in parallel and
never see a half-applied upsert. Small indexes (and narrow filters) are searched exactly;
beyond ``exact_threshold`` vectors the HNSW graph is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

from actors.stores._filter import Predicate
from actors.stores._vecsql import F32, U64, Removed, Upserted, VectorRows
from actors.stores.vector_messages import Metric, QueryResult

__all__ = ["HnswOptions", "RWLock", "VectorIndex"]

_USEARCH_METRIC = {"cosine": "cos", "dot": "ip", "euclidean": "l2sq"}


class RWLock:
    """Many readers or one writer (threads). Writers wait for readers to leave."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """Hold the read side for the block."""
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """Hold the write side for the block."""
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class HnswOptions:
    """HNSW build and search parameters, and the size below which search is exact."""

    def __init__(
        self,
        *,
        exact_threshold: int = 10_000,
        connectivity: int = 32,
        expansion_add: int = 128,
        expansion_search: int = 128,
    ) -> None:
        self.exact_threshold = exact_threshold
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search


class VectorIndex:
    """A named index: usearch graph, key<->id maps, metadata, and the last applied ``seq``."""

    def __init__(self, name: str, dimension: int, metric: Metric, options: HnswOptions) -> None:
        self.name = name
        self.dimension = dimension
        self.metric: Metric = metric
        self.options = options
        self.lock = RWLock()
        self.seq = 0
        self.viewed = False
        self._view_path: Path | None = None
        self.index = self._new_index()
        self.ids: dict[int, str] = {}
        self.keys: dict[str, int] = {}
        self.meta: dict[int, dict[str, Any]] = {}

    def _new_index(self) -> Index:
        o = self.options
        return Index(
            ndim=self.dimension,
            metric=_USEARCH_METRIC[self.metric],
            dtype="f32",
            connectivity=o.connectivity,
            expansion_add=o.expansion_add,
            expansion_search=o.expansion_search,
        )

    def __len__(self) -> int:
        return len(self.ids)

    # -- mutations (writer thread, after commit) ----------------------------------------
    def set_rows(self, rows: VectorRows, seq: int) -> None:
        """Replace the maps with the stored rows (used when opening the index)."""
        with self.lock.write():
            keys = rows.keys.tolist()
            self.ids = dict(zip(keys, rows.ids, strict=True))
            self.keys = dict(zip(rows.ids, keys, strict=True))
            self.meta = dict(zip(keys, rows.metadata, strict=True))
            self.seq = seq

    def apply_upsert(self, effect: Upserted) -> None:
        """Add committed vectors (replacing the old vectors of existing keys)."""
        with self.lock.write():
            self._mutable()
            present = self.index.contains(effect.keys)
            if np.any(present):
                self.index.remove(effect.keys[present])
            self.index.add(effect.keys, effect.vectors)
            for key, vid, meta in zip(
                effect.keys.tolist(), effect.ids, effect.metadata, strict=True
            ):
                self.ids[key] = vid
                self.keys[vid] = key
                self.meta[key] = meta
            self.seq = effect.seq

    def apply_remove(self, effect: Removed) -> None:
        """Remove committed deletions."""
        with self.lock.write():
            if len(effect.keys):
                self._mutable()
                self.index.remove(effect.keys)
            for key, vid in zip(effect.keys.tolist(), effect.ids, strict=True):
                self.ids.pop(key, None)
                self.keys.pop(vid, None)
                self.meta.pop(key, None)
            self.seq = effect.seq

    def repair(self, keys_to_add: U64, vectors: F32) -> None:
        """Make the graph hold exactly the keys in the maps, (re)adding ``keys_to_add``."""
        with self.lock.write():
            self._mutable()
            stored = np.asarray(self.index.keys, dtype=np.uint64)
            known = np.asarray(list(self.ids), dtype=np.uint64)
            stale = np.setdiff1d(stored, known)
            again = (
                keys_to_add[self.index.contains(keys_to_add)] if len(keys_to_add) else keys_to_add
            )
            for drop in (stale, again):
                if len(drop):
                    self.index.remove(drop)
            if len(keys_to_add):
                self.index.add(keys_to_add, vectors)

    def _mutable(self) -> None:
        if self.viewed and self._view_path is not None:
            # a memory-mapped view is read-only: load the same file into memory once
            loaded = Index.restore(str(self._view_path), view=False)
            if loaded is None:
                raise RuntimeError(f"cannot load the saved index {self._view_path}")
            loaded.expansion_search = self.options.expansion_search  # type: ignore[misc]
            self.index, self.viewed = loaded, False

    # -- files ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write ``<name>.usearch`` and then ``<name>.json`` (holding ``seq``), each atomically."""
        with self.lock.read():
            data, meta = _paths(directory, self.name)
            _atomic(data, lambda tmp: self.index.save(str(tmp)))
            record = {"seq": self.seq, "count": len(self.ids), "dimension": self.dimension}
            _atomic(meta, lambda tmp: tmp.write_text(json.dumps(record)))

    def open_view(self, directory: Path) -> int | None:
        """Memory-map a saved graph; return the ``seq`` it reflects, or None if unusable."""
        data, meta = _paths(directory, self.name)
        try:
            record = json.loads(meta.read_text())
            view = Index.restore(str(data), view=True)
        except (OSError, ValueError, RuntimeError):
            return None
        if view is None or view.ndim != self.dimension or record.get("dimension") != self.dimension:
            return None
        view.expansion_search = self.options.expansion_search  # type: ignore[misc]
        with self.lock.write():
            self.index, self.viewed, self._view_path = view, True, data
        return int(record["seq"])

    def remove_files(self, directory: Path) -> None:
        """Delete the saved files of this index, if any."""
        for path in _paths(directory, self.name):
            path.unlink(missing_ok=True)

    # -- queries (reader threads) --------------------------------------------------------
    def query(
        self,
        vector: F32,
        top_k: int,
        predicate: Predicate | None,
        min_score: float | None,
        include_vector: bool,
    ) -> list[QueryResult]:
        """The ``top_k`` best matches that pass ``predicate`` and reach ``min_score``."""
        with self.lock.read():
            n = len(self.ids)
            if n == 0 or top_k <= 0:
                return []
            if predicate is None:
                keys, scores = self._search(
                    vector, min(top_k, n), exact=n <= self.options.exact_threshold
                )
            else:
                keys, scores = self._filtered(vector, top_k, predicate, n)
            return self._results(keys, scores, min_score, include_vector)

    def _search(self, vector: F32, count: int, *, exact: bool) -> tuple[U64, F32]:
        matches = self.index.search(vector, count, exact=exact)
        return np.asarray(matches.keys, dtype=np.uint64), self._scores(
            np.asarray(matches.distances)
        )

    def _scores(self, distances: F32) -> F32:
        if self.metric == "euclidean":
            return (1.0 / (1.0 + np.sqrt(np.maximum(distances, 0.0)))).astype(np.float32)
        return (1.0 - distances).astype(np.float32)

    def _filtered(self, vector: F32, top_k: int, predicate: Predicate, n: int) -> tuple[U64, F32]:
        """Search among the keys whose metadata passes ``predicate`` (not a post-filter)."""
        allowed = np.asarray([k for k, m in self.meta.items() if predicate(m)], dtype=np.uint64)
        if not len(allowed):
            return allowed, np.empty(0, dtype=np.float32)
        if len(allowed) <= self.options.exact_threshold or len(allowed) * 20 < n:
            return self._exact(vector, allowed, top_k)
        allowed_set = set(allowed.tolist())
        count = max(4 * top_k, 64)
        while True:
            keys, scores = self._search(vector, min(count, n), exact=False)
            mask = np.fromiter(
                (k in allowed_set for k in keys.tolist()), dtype=bool, count=len(keys)
            )
            if mask.sum() >= top_k:
                return keys[mask][:top_k], scores[mask][:top_k]
            if count >= n:
                return self._exact(vector, allowed, top_k)
            count *= 4

    def _exact(self, vector: F32, keys: U64, top_k: int) -> tuple[U64, F32]:
        matrix = _vectors(self.index, keys)
        if self.metric == "euclidean":
            scores = 1.0 / (1.0 + np.linalg.norm(matrix - vector, axis=1))
        elif self.metric == "dot":
            scores = matrix @ vector
        else:
            norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector))
            scores = (matrix @ vector) / np.where(norms == 0, 1.0, norms)
        k = min(top_k, len(keys))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return keys[best], scores[best].astype(np.float32)

    def _results(
        self, keys: U64, scores: F32, min_score: float | None, include_vector: bool
    ) -> list[QueryResult]:
        out: list[QueryResult] = []
        for key, score in zip(keys.tolist(), scores.tolist(), strict=True):
            if key not in self.ids or (min_score is not None and score < min_score):
                continue
            vector = (
                _vectors(self.index, np.asarray([key], dtype=np.uint64))[0].tolist()
                if include_vector
                else None
            )
            out.append(
                QueryResult(id=self.ids[key], score=score, metadata=self.meta[key], vector=vector)
            )
        return out


def _vectors(index: Index, keys: U64) -> F32:
    """The stored vectors of ``keys`` (all present) as an n x d float32 matrix."""
    got: Any = index.get(keys, dtype="f32")
    rows = got if isinstance(got, tuple) else [got]
    return np.stack([np.asarray(r, dtype=np.float32) for r in rows])


def _paths(directory: Path, name: str) -> tuple[Path, Path]:
    safe = "".join(c if c.isalnum() or c in "-_." else f"%{ord(c):02x}" for c in name)
    return directory / f"{safe}.usearch", directory / f"{safe}.json"


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
