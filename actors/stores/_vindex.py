"""One in-memory vector index: the exact matrix, an optional HNSW graph, ids and metadata.

Methods block and run on worker threads. Mutations (``apply_*``, ``repair``) hold the write
side of a readers-writer lock; queries and ``save`` hold the read side, so queries never see a
half-applied upsert. Every vector lives in a contiguous float32 matrix that exact search scans
with one matrix product per batch of queries. Beyond ``exact_threshold`` vectors a usearch
HNSW graph is built (one batched, multi-threaded add) and kept in step; queries then take
candidates from the graph and re-score them exactly from the matrix.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from usearch.index import Index

from actors.stores._filter import Predicate
from actors.stores._vecsql import F32, U64, Removed, Upserted, VectorRows
from actors.stores._vmatrix import VectorMatrix
from actors.stores.vector_messages import Metric, QueryResult

__all__ = ["EXACT_THRESHOLD", "HnswOptions", "QuerySpec", "RWLock", "VectorIndex"]

EXACT_THRESHOLD = 200_000
"""Default size above which an index is searched through its HNSW graph (see HnswOptions)."""

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


@dataclass(frozen=True, slots=True)
class HnswOptions:
    """The size above which the HNSW graph is used, and its build and search parameters.

    The default threshold comes from measurements on 384-dimension vectors on a 2-core
    machine: a batched exact scan of 100k vectors answers concurrent queries faster than an
    HNSW graph does at recall 0.95 (random high-dimension vectors are the graph's worst case),
    so the graph only pays off for larger indexes (and at a search width of 20 times the
    candidates, about 500 for ``top_k`` 10, which keeps recall@10 near 0.95 even on random
    384-dimension vectors at 20k). The graph is built in one batched add by
    the write that crosses the threshold (that write is acknowledged after the build), then
    kept in step by every later write. ``expansion_search`` is a floor: each search widens it
    to ``search_factor`` times the number of candidates it asks for. ``threads`` is passed to
    usearch (0: one per core).
    """

    exact_threshold: int = EXACT_THRESHOLD
    connectivity: int = 32
    expansion_add: int = 128
    expansion_search: int = 128
    search_factor: int = 20
    threads: int = 0


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """One query against one index: the vector (float32), ``top_k``, filter and options."""

    vector: F32
    top_k: int
    predicate: Predicate | None
    min_score: float | None
    include_vector: bool


class VectorIndex:
    """A named index: matrix, optional graph, key<->id maps, metadata and the applied ``seq``."""

    def __init__(self, name: str, dimension: int, metric: Metric, options: HnswOptions) -> None:
        self.name = name
        self.dimension = dimension
        self.metric: Metric = metric
        self.options = options
        self.lock = RWLock()
        self.seq = 0
        self.matrix = VectorMatrix(dimension, metric)
        self.graph: Index | None = None
        self.graph_viewed = False
        self.graph_path: str | None = None
        self.ids: dict[int, str] = {}
        self.keys: dict[str, int] = {}
        self.meta: dict[int, dict[str, Any]] = {}
        self._graph_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def new_graph(self) -> Index:
        """An empty usearch graph with this index's metric and the HNSW options."""
        o = self.options
        return Index(
            ndim=self.dimension,
            metric=_USEARCH_METRIC[self.metric],
            dtype="f32",
            connectivity=o.connectivity,
            expansion_add=o.expansion_add,
            expansion_search=o.expansion_search,
        )

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
            self._put(effect.keys, effect.vectors)
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
            self._drop(effect.keys)
            for key, vid in zip(effect.keys.tolist(), effect.ids, strict=True):
                self.ids.pop(key, None)
                self.keys.pop(vid, None)
                self.meta.pop(key, None)
            self.seq = effect.seq

    def repair(self, stale: U64, keys_to_add: U64, vectors: F32) -> None:
        """Drop ``stale`` keys, (re)write ``keys_to_add`` and build the graph if now needed."""
        with self.lock.write():
            self._drop(stale)
            self._put(keys_to_add, vectors)
            self._ensure_graph()

    def needs_graph(self) -> bool:
        """True when the index is past the threshold but has no graph yet."""
        return self.graph is None and self.matrix.count > self.options.exact_threshold

    def _put(self, keys: U64, vectors: F32) -> None:
        if not len(keys):
            return
        self.matrix.upsert(keys, vectors)
        graph = self._writable_graph()
        if graph is not None:
            present = graph.contains(keys)
            if np.any(present):
                graph.remove(keys[present])
            graph.add(keys, vectors, threads=self.options.threads)
        self._ensure_graph()

    def _drop(self, keys: U64) -> None:
        if not len(keys):
            return
        self.matrix.remove(keys)
        graph = self._writable_graph()
        if graph is not None:
            graph.remove(keys)

    def _ensure_graph(self) -> None:
        if self.needs_graph():
            graph = self.new_graph()
            graph.add(self.matrix.keys, self.matrix.vectors, threads=self.options.threads)
            self.graph, self.graph_viewed = graph, False

    def _writable_graph(self) -> Index | None:
        if self.graph is not None and self.graph_viewed and self.graph_path is not None:
            # a memory-mapped view is read-only: load the same file into memory once
            loaded = Index.restore(self.graph_path, view=False)
            if loaded is None:
                raise RuntimeError(f"cannot load the saved graph {self.graph_path}")
            self.graph, self.graph_viewed = loaded, False
        return self.graph

    # -- queries (worker threads) --------------------------------------------------------
    def query_many(self, specs: Sequence[QuerySpec]) -> list[list[QueryResult]]:
        """Answer every spec: unfiltered ones in one batch, filtered ones each on its own."""
        with self.lock.read():
            answers: list[list[QueryResult]] = [[] for _ in specs]
            if not self.matrix.count:
                return answers
            plain = [i for i, s in enumerate(specs) if s.predicate is None and s.top_k > 0]
            if plain:
                k = min(max(specs[i].top_k for i in plain), self.matrix.count)
                queries = np.stack([specs[i].vector for i in plain])
                keys, scores = self._search(queries, k)
                for row, i in enumerate(plain):
                    top = specs[i].top_k
                    answers[i] = self._results(keys[row][:top], scores[row][:top], specs[i])
            for i, spec in enumerate(specs):
                if spec.predicate is not None and spec.top_k > 0:
                    keys_1, scores_1 = self._filtered(spec.vector, spec.top_k, spec.predicate)
                    answers[i] = self._results(keys_1, scores_1, spec)
            return answers

    def _search(self, queries: F32, k: int) -> tuple[list[U64], list[F32]]:
        """The ``k`` best keys and scores of each query, exact or through the graph."""
        if self.graph is None or self.matrix.count <= self.options.exact_threshold:
            keys, scores = self.matrix.top(queries, k)
            return list(keys), list(scores)
        candidates = self._candidates(queries, max(2 * k, k + 16))
        out_keys: list[U64] = []
        out_scores: list[F32] = []
        for query, found in zip(queries, candidates, strict=True):
            keys_1, scores_1 = self._rescore(query, found, k)
            out_keys.append(keys_1)
            out_scores.append(scores_1)
        return out_keys, out_scores

    def _candidates(self, queries: F32, count: int) -> list[U64]:
        """Up to ``count`` graph neighbours per query, with a search width that grows with it."""
        assert self.graph is not None
        with self._graph_lock:
            self.graph.expansion_search = max(  # type: ignore[misc]
                self.options.expansion_search, self.options.search_factor * count
            )
            matches: Any = self.graph.search(queries, count, threads=self.options.threads)
        if not hasattr(matches, "counts"):  # one query gives a trimmed ``Matches``
            return [np.asarray(matches.keys, dtype=np.uint64)]
        keys = np.asarray(matches.keys, dtype=np.uint64).reshape(len(queries), -1)
        counts = np.asarray(matches.counts).reshape(-1)
        return [row[: int(c)] for row, c in zip(keys, counts, strict=True)]

    def _rescore(self, query: F32, keys: U64, k: int) -> tuple[U64, F32]:
        """Exact scores of candidate ``keys`` from the matrix; the best ``k``."""
        keys = keys[self.matrix.contains(keys)]
        rows = np.asarray([self.matrix.rows[key] for key in keys.tolist()], dtype=np.int64)
        if not len(rows):
            return keys, np.empty(0, dtype=np.float32)
        best, scores = self.matrix.top(query[None, :], k, rows)
        return best[0], scores[0]

    def _filtered(self, vector: F32, top_k: int, predicate: Predicate) -> tuple[U64, F32]:
        """Search among the keys whose metadata passes ``predicate`` (not a post-filter).

        Through the graph only when the index is past the threshold and the filter keeps a
        large share of it; the graph is asked for ever more candidates until ``top_k`` of
        them pass, and past a quarter of the index the allowed keys are scanned exactly.
        """
        allowed = [k for k, m in self.meta.items() if predicate(m)]
        if not allowed:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        n = self.matrix.count
        use_graph = self.graph is not None and n > self.options.exact_threshold
        count = max(4 * top_k, 64)
        if use_graph and len(allowed) > self.options.exact_threshold and len(allowed) * 20 >= n:
            allowed_set = set(allowed)
            while count * 4 <= n:
                [found] = self._candidates(vector[None, :], count)
                mask = np.fromiter((k in allowed_set for k in found.tolist()), bool, len(found))
                if mask.sum() >= top_k:
                    return self._rescore(vector, found[mask], top_k)
                count *= 4
        rows = np.asarray([self.matrix.rows[k] for k in allowed], dtype=np.int64)
        keys, scores = self.matrix.top(vector[None, :], top_k, rows)
        return keys[0], scores[0]

    def _results(self, keys: U64, scores: F32, spec: QuerySpec) -> list[QueryResult]:
        out: list[QueryResult] = []
        for key, score in zip(keys.tolist(), scores.tolist(), strict=True):
            if key not in self.ids or (spec.min_score is not None and score < spec.min_score):
                continue
            vector = (
                self.matrix.get(np.asarray([key], dtype=np.uint64))[0].tolist()
                if spec.include_vector
                else None
            )
            out.append(
                QueryResult(id=self.ids[key], score=score, metadata=self.meta[key], vector=vector)
            )
        return out
