"""The vector store's SQLite side: the source of truth for indexes, vectors and metadata.

Each write bumps its index's ``seq``; every vector row records the ``seq`` of its last change.
The usearch files are derived from these rows and repaired from them after a crash.
Writes return *effects* that the vector actor applies to its in-memory indexes after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, assert_never, cast

import apsw
import numpy as np
import numpy.typing as npt

from actors.stores._errors import DimensionMismatch, IndexExists, InvalidRequest, UnknownIndex
from actors.stores._filter import compile_filter
from actors.stores._sql import dump_json, fetch_one, load_json
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DeleteVectors,
    Metric,
    Upsert,
    VectorWrite,
)

__all__ = [
    "Created",
    "Dropped",
    "IndexRow",
    "Removed",
    "Upserted",
    "VectorRows",
    "apply_vector_write",
    "index_rows",
    "load_all_vectors",
    "load_rows",
    "load_vectors",
]

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class IndexRow:
    """An index as stored: name, dimension, metric and its last change number."""

    name: str
    dimension: int
    metric: Metric
    seq: int


@dataclass(frozen=True, slots=True)
class Created:
    """Effect of ``CreateIndex`` (``new`` is False when it already existed)."""

    index: IndexRow
    new: bool


@dataclass(frozen=True, slots=True)
class Dropped:
    """Effect of ``DeleteIndex``."""

    name: str
    existed: bool


@dataclass(frozen=True, slots=True)
class Upserted:
    """Effect of ``Upsert``: keys, ids, vectors (n x d) and metadata, committed at ``seq``."""

    name: str
    keys: U64
    ids: list[str]
    vectors: F32
    metadata: list[dict[str, Any]]
    seq: int


@dataclass(frozen=True, slots=True)
class Removed:
    """Effect of ``DeleteVectors``."""

    name: str
    keys: U64
    ids: list[str]
    seq: int


@dataclass(frozen=True, slots=True)
class VectorRows:
    """An index's rows without vectors: keys, ids, metadata and change numbers."""

    keys: U64
    ids: list[str]
    metadata: list[dict[str, Any]]
    seqs: npt.NDArray[np.int64]


def apply_vector_write(conn: apsw.Connection, op: VectorWrite) -> object:
    """Apply one vector write inside the writer's transaction and return its effect."""
    match op:
        case CreateIndex():
            return _create(conn, op)
        case DeleteIndex():
            conn.execute("DELETE FROM vectors WHERE index_name = ?", (op.index_name,))
            conn.execute("DELETE FROM vector_indexes WHERE name = ?", (op.index_name,))
            return Dropped(name=op.index_name, existed=conn.changes() > 0)
        case Upsert():
            return _upsert(conn, op)
        case DeleteVectors():
            return _delete(conn, op)
        case _:
            assert_never(op)


def index_rows(conn: apsw.Connection) -> list[IndexRow]:
    """Every stored index."""
    rows = conn.execute("SELECT name, dimension, metric, seq FROM vector_indexes ORDER BY name")
    return [IndexRow(name=r[0], dimension=r[1], metric=r[2], seq=r[3]) for r in rows]


def _index(conn: apsw.Connection, name: str) -> IndexRow:
    row = conn.execute(
        "SELECT name, dimension, metric, seq FROM vector_indexes WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise UnknownIndex(f"vector index {name!r} does not exist")
    return IndexRow(name=row[0], dimension=row[1], metric=row[2], seq=row[3])


def _create(conn: apsw.Connection, op: CreateIndex) -> Created:
    if not op.index_name:
        raise InvalidRequest("`index_name` must be a non-empty string")
    if op.dimension < 1:
        raise InvalidRequest(f"`dimension` must be a positive integer, got {op.dimension}")
    try:
        existing = _index(conn, op.index_name)
    except UnknownIndex:
        conn.execute(
            "INSERT INTO vector_indexes (name, dimension, metric, next_key, seq, created_at)"
            " VALUES (?, ?, ?, 0, 0, unixepoch('subsec'))",
            (op.index_name, op.dimension, op.metric),
        )
        return Created(index=_index(conn, op.index_name), new=True)
    if (existing.dimension, existing.metric) != (op.dimension, op.metric):
        raise IndexExists(
            f"vector index {op.index_name!r} exists with dimension {existing.dimension} and"
            f" metric {existing.metric!r}"
        )
    return Created(index=existing, new=False)


def _as_matrix(op: Upsert, dimension: int) -> F32:
    for i, vector in enumerate(op.vectors):
        if len(vector) != dimension:
            raise DimensionMismatch(
                f"vector index {op.index_name!r} expects dimension {dimension},"
                f" got {len(vector)} at `vectors[{i}]`"
            )
    matrix = np.asarray(op.vectors, dtype=np.float32).reshape(len(op.vectors), dimension)
    if not np.isfinite(matrix).all():
        raise InvalidRequest("`vectors` must hold finite numbers only")
    return matrix


def _upsert(conn: apsw.Connection, op: Upsert) -> Upserted:
    index = _index(conn, op.index_name)
    matrix = _as_matrix(op, index.dimension)
    n = len(op.vectors)
    ids = op.ids if op.ids is not None else [str(uuid.uuid4()) for _ in range(n)]
    metadata = op.metadata if op.metadata is not None else [{} for _ in range(n)]
    for field, values in (("ids", ids), ("metadata", metadata)):
        if len(values) != n:
            raise InvalidRequest(f"`{field}` has {len(values)} entries for {n} vectors")
    if len(set(ids)) != n:
        raise InvalidRequest("`ids` must not repeat within one upsert")
    seq = index.seq + 1
    next_key = fetch_one(conn, "SELECT next_key FROM vector_indexes WHERE name = ?", (index.name,))[
        0
    ]
    keys = np.empty(n, dtype=np.uint64)
    for i, (vid, meta) in enumerate(zip(ids, metadata, strict=True)):
        row = conn.execute(
            "SELECT key FROM vectors WHERE index_name = ? AND id = ?", (index.name, vid)
        ).fetchone()
        key = next_key if row is None else int(row[0])
        next_key += row is None
        keys[i] = key
        conn.execute(
            "INSERT INTO vectors (index_name, id, key, vector, metadata, seq)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (index_name, id) DO UPDATE SET"
            " vector = excluded.vector, metadata = excluded.metadata, seq = excluded.seq",
            (index.name, vid, key, matrix[i].tobytes(), dump_json(meta, f"metadata[{i}]"), seq),
        )
    conn.execute(
        "UPDATE vector_indexes SET seq = ?, next_key = ? WHERE name = ?",
        (seq, next_key, index.name),
    )
    return Upserted(
        name=index.name, keys=keys, ids=list(ids), vectors=matrix, metadata=metadata, seq=seq
    )


def _delete(conn: apsw.Connection, op: DeleteVectors) -> Removed:
    index = _index(conn, op.index_name)
    wanted = set(op.ids)
    predicate = compile_filter(op.filter)
    if predicate is not None:
        rows = conn.execute("SELECT id, metadata FROM vectors WHERE index_name = ?", (index.name,))
        wanted.update(str(r[0]) for r in rows.fetchall() if predicate(load_json(str(r[1]))))
    keys: list[int] = []
    ids: list[str] = []
    for vid in sorted(wanted):
        row = conn.execute(
            "DELETE FROM vectors WHERE index_name = ? AND id = ? RETURNING key", (index.name, vid)
        ).fetchone()
        if row is not None:
            keys.append(int(row[0]))
            ids.append(vid)
    seq = index.seq + 1 if ids else index.seq
    conn.execute("UPDATE vector_indexes SET seq = ? WHERE name = ?", (seq, index.name))
    return Removed(name=index.name, keys=np.asarray(keys, dtype=np.uint64), ids=ids, seq=seq)


def load_rows(conn: apsw.Connection, name: str) -> VectorRows:
    """An index's keys, ids, metadata and change numbers (no vectors), ordered by key."""
    rows = conn.execute(
        "SELECT key, id, metadata, seq FROM vectors WHERE index_name = ? ORDER BY key", (name,)
    ).fetchall()
    return VectorRows(
        keys=np.asarray([r[0] for r in rows], dtype=np.uint64),
        ids=[str(r[1]) for r in rows],
        metadata=[load_json(str(r[2])) for r in rows],
        seqs=np.asarray([r[3] for r in rows], dtype=np.int64),
    )


def load_all_vectors(conn: apsw.Connection, name: str, dimension: int) -> F32:
    """Every stored vector of the index as an n x d matrix, ordered by key (as ``load_rows``)."""
    rows = conn.execute(
        "SELECT vector FROM vectors WHERE index_name = ? ORDER BY key", (name,)
    ).fetchall()
    out = np.empty((len(rows), dimension), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i] = np.frombuffer(cast(bytes, row[0]), dtype=np.float32)
    return out


def load_vectors(conn: apsw.Connection, name: str, keys: U64, dimension: int) -> F32:
    """The stored vectors of ``keys`` (in that order) as an n x d matrix."""
    out = np.empty((len(keys), dimension), dtype=np.float32)
    for i, key in enumerate(keys.tolist()):
        row = fetch_one(
            conn, "SELECT vector FROM vectors WHERE index_name = ? AND key = ?", (name, key)
        )
        out[i] = np.frombuffer(row[0], dtype=np.float32)
    return out
