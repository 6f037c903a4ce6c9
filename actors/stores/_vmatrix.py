"""Vectors of one index in a contiguous float32 matrix, addressed by key, scored exactly.

The matrix is what exact search scans: a batch of queries is one matrix product (BLAS), so
many concurrent queries cost little more than one. Rows are kept dense: removing a row moves
the last row into its place. A matrix opened from a saved file starts as a read-only memory
map and is copied into memory on its first change. Not thread-safe by itself: the owning
``VectorIndex`` holds its readers-writer lock around every call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from actors.stores._vecsql import F32, U64
from actors.stores.vector_messages import Metric

__all__ = ["VectorMatrix"]

I64 = npt.NDArray[np.int64]
_SETS = 16


class VectorMatrix:
    """Rows of vectors with their keys and per-row norms, for exact scoring under ``metric``."""

    def __init__(self, dimension: int, metric: Metric) -> None:
        self.dimension = dimension
        self.metric: Metric = metric
        self.count = 0
        self.rows: dict[int, int] = {}
        self._data: F32 = np.empty((0, dimension), dtype=np.float32)
        self._keys: U64 = np.empty(0, dtype=np.uint64)
        self._norms: F32 = np.empty(0, dtype=np.float32)

    @classmethod
    def of(cls, dimension: int, metric: Metric, keys: U64, vectors: F32) -> VectorMatrix:
        """A matrix over ``keys`` and ``vectors`` (kept as given, e.g. a read-only memory map)."""
        matrix = cls(dimension, metric)
        matrix._data, matrix._keys = vectors, keys
        matrix.count = len(keys)
        matrix.rows = {k: i for i, k in enumerate(keys.tolist())}
        matrix._norms = _norms(vectors, metric)
        return matrix

    @property
    def keys(self) -> U64:
        """The keys of the stored rows, in row order."""
        return self._keys[: self.count]

    @property
    def vectors(self) -> F32:
        """The stored rows (a view; do not keep it across changes)."""
        return self._data[: self.count]

    def contains(self, keys: U64) -> npt.NDArray[np.bool_]:
        """Which of ``keys`` have a row."""
        return np.fromiter((k in self.rows for k in keys.tolist()), dtype=bool, count=len(keys))

    def get(self, keys: U64) -> F32:
        """The vectors of ``keys`` (all present) as an n x d matrix."""
        return self._data[[self.rows[k] for k in keys.tolist()]]

    # -- changes -------------------------------------------------------------------------
    def upsert(self, keys: U64, vectors: F32) -> None:
        """Write ``vectors`` to the rows of ``keys``, appending rows for new keys."""
        self._ensure(self.count + len(keys))
        targets = np.empty(len(keys), dtype=np.int64)
        for i, key in enumerate(keys.tolist()):
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = self.count
                self._keys[row] = key
                self.count += 1
            targets[i] = row
        self._data[targets] = vectors
        self._norms[targets] = _norms(vectors, self.metric)

    def remove(self, keys: U64) -> None:
        """Drop the rows of ``keys`` (absent keys are ignored)."""
        for key in keys.tolist():
            row = self.rows.pop(key, None)
            if row is None:
                continue
            last = self.count - 1
            if row != last:
                self._ensure(self.count)
                moved = int(self._keys[last])
                self._data[row] = self._data[last]
                self._keys[row] = moved
                self._norms[row] = self._norms[last]
                self.rows[moved] = row
            self.count = last

    def _ensure(self, size: int) -> None:
        """Room for ``size`` rows in writable memory (copies a memory map once, grows x2)."""
        writable = self._data.flags.writeable and self._keys.flags.writeable
        if writable and len(self._data) >= size:
            return
        capacity = max(size, 2 * len(self._data) if writable else size, 64)
        data = np.empty((capacity, self.dimension), dtype=np.float32)
        keys = np.empty(capacity, dtype=np.uint64)
        norms = np.empty(capacity, dtype=np.float32)
        data[: self.count] = self._data[: self.count]
        keys[: self.count] = self._keys[: self.count]
        norms[: self.count] = self._norms[: self.count]
        self._data, self._keys, self._norms = data, keys, norms

    # -- exact scoring -------------------------------------------------------------------
    def _ranks(self, queries: F32, rows: I64 | None) -> F32:
        """Per query, values that order ``rows`` like the scores do (one matrix product)."""
        data = self.vectors if rows is None else self._data[rows]
        norms = self._norms[: self.count] if rows is None else self._norms[rows]
        ranks: F32 = queries @ data.T
        if self.metric == "cosine" and not _all_unit(norms):
            ranks *= norms[None, :]  # / |v|; the 1 / |q| of each row comes in _finish
        elif self.metric == "euclidean":
            ranks *= 2.0
            ranks -= norms[None, :]  # 2 q.v - |v|^2 = |q|^2 - |q - v|^2
        return ranks

    def _finish(self, queries: F32, ranks: F32) -> F32:
        """Turn selected ranks (b x k) into scores ("higher is closer")."""
        if self.metric == "dot":
            return ranks
        squared = np.einsum("ij,ij->i", queries, queries)[:, None]
        if self.metric == "cosine":
            inverse = np.zeros_like(squared)
            np.divide(1.0, np.sqrt(squared), out=inverse, where=squared > 0)
            scaled: F32 = (ranks * inverse).astype(np.float32)
            return scaled
        distances = np.sqrt(np.maximum(squared - ranks, 0.0))
        closeness: F32 = (1.0 / (1.0 + distances)).astype(np.float32)
        return closeness

    def top(self, queries: F32, k: int, rows: I64 | None = None) -> tuple[U64, F32]:
        """The ``k`` best keys and scores per query (b x k each, best first)."""
        n = self.count if rows is None else len(rows)
        k = min(k, n)
        if k <= 0:
            empty = np.empty((len(queries), 0))
            return empty.astype(np.uint64), empty.astype(np.float32)
        ranks = self._ranks(queries, rows)
        best = _select(ranks, k)
        picked = np.take_along_axis(ranks, best, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        row_ids = best if rows is None else rows[best]
        scores = self._finish(queries, np.take_along_axis(picked, order, axis=1))
        return self._keys[row_ids], scores


def _select(ranks: F32, k: int) -> I64:
    """Column indexes of the ``k`` largest values of each row (unordered), b x k.

    Wide rows are split into ``w = n // 16`` interleaved sets (set ``j`` holds the columns
    ``j, j + w, ..., j + 15w``): every one of the ``k`` largest values lies in one of the ``k``
    sets with the largest maxima, so only those sets (and a ragged tail) are partitioned
    instead of the whole row. The maxima are one fast pass over contiguous memory.
    """
    b, n = ranks.shape
    if n < 4096 or k * 64 > n:
        if k == n:
            return np.broadcast_to(np.arange(n), ranks.shape).copy()
        return np.argpartition(ranks, n - k, axis=1)[:, n - k :]
    w = n // _SETS
    maxima = ranks[:, : w * _SETS].reshape(b, _SETS, w).max(axis=1)
    chosen = np.argpartition(maxima, w - k, axis=1)[:, w - k :]
    cols = (chosen[:, :, None] + w * np.arange(_SETS)).reshape(b, k * _SETS)
    if w * _SETS < n:
        tail = np.broadcast_to(np.arange(w * _SETS, n), (b, n - w * _SETS))
        cols = np.concatenate([cols, tail], axis=1)
    values = np.take_along_axis(ranks, cols, axis=1)
    best = np.argpartition(values, values.shape[1] - k, axis=1)[:, values.shape[1] - k :]
    picked: I64 = np.take_along_axis(cols, best, axis=1)
    return picked


def _all_unit(inverse_norms: F32) -> bool:
    """True when every row is a unit vector (to float32 precision): no scaling needed."""
    return bool(len(inverse_norms)) and float(np.abs(inverse_norms - 1.0).max()) <= 1e-6


def _norms(vectors: F32, metric: Metric) -> F32:
    """Per-row data the scores need: 1/|v| for cosine (0 for a zero vector), |v|^2 otherwise."""
    squared: F32 = np.einsum("ij,ij->i", vectors, vectors).astype(np.float32)
    if metric != "cosine":
        return squared
    out: F32 = np.zeros_like(squared)
    np.divide(1.0, np.sqrt(squared), out=out, where=squared > 0)
    return out
