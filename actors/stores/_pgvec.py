"""The vector store's operations on Postgres with pgvector.

Each index is a table of its own (``id``, ``embedding vector(d)``, ``metadata jsonb``) with an
HNSW index for its metric, registered in ``mastra_vector_indexes``. Writes run inside the
group-commit writer's transaction and return their replies; queries run on a pooled
connection. Scores are "higher is closer", as in the usearch store: cosine similarity, the
inner product, and ``1 / (1 + distance)`` for euclidean.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, assert_never

import msgspec
import numpy as np
from psycopg import sql

from actors.stores._errors import DimensionMismatch, IndexExists, InvalidRequest, UnknownIndex
from actors.stores._pg import Conn, fetch_row
from actors.stores._pgfilter import filter_sql
from actors.stores._sql import dump_json
from actors.stores._vecsql import _as_matrix
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DeleteVectors,
    DescribeIndex,
    IndexInfo,
    Metric,
    Query,
    QueryResult,
    Upsert,
    VectorRead,
    VectorWrite,
)

__all__ = ["apply_pgvector_write", "run_pgvector_read"]

# (operator class of the HNSW index, distance operator, distance -> score)
_METRICS: dict[str, tuple[str, str, str]] = {
    "cosine": ("vector_cosine_ops", "<=>", "1 - d"),
    "dot": ("vector_ip_ops", "<#>", "-d"),
    "euclidean": ("vector_l2_ops", "<->", "1 / (1 + d)"),
}
_load_floats = msgspec.json.Decoder(list[float]).decode
_load_meta = msgspec.json.Decoder(dict[str, Any]).decode


@dataclass(frozen=True, slots=True)
class _Index:
    name: str
    dimension: int
    metric: Metric
    table: str


def _vector_text(values: Any) -> str:
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def _index(conn: Conn, name: str, *, lock: bool = False) -> _Index:
    row = conn.execute(
        "SELECT name, dimension, metric, table_name FROM mastra_vector_indexes WHERE name = %s"
        + (" FOR SHARE" if lock else ""),
        (name,),
    ).fetchone()
    if row is None:
        raise UnknownIndex(f"vector index {name!r} does not exist")
    return _Index(name=row[0], dimension=row[1], metric=row[2], table=row[3])


def _count(conn: Conn, index: _Index) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(index.table))
    return int(fetch_row(conn, query.as_string(conn))[0])


def _info(conn: Conn, index: _Index) -> IndexInfo:
    return IndexInfo(
        name=index.name, dimension=index.dimension, metric=index.metric, count=_count(conn, index)
    )


def apply_pgvector_write(conn: Conn, op: VectorWrite) -> object:
    """Apply one vector write inside the writer's transaction and return its reply."""
    match op:
        case CreateIndex():
            return _create(conn, op)
        case DeleteIndex():
            row = conn.execute(
                "DELETE FROM mastra_vector_indexes WHERE name = %s RETURNING table_name",
                (op.index_name,),
            ).fetchone()
            if row is None:
                return False
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(row[0])))
            return True
        case Upsert():
            return _upsert(conn, op)
        case DeleteVectors():
            return _delete(conn, op)
        case _:
            assert_never(op)


def _create(conn: Conn, op: CreateIndex) -> IndexInfo:
    if not op.index_name:
        raise InvalidRequest("`index_name` must be a non-empty string")
    if op.dimension < 1:
        raise InvalidRequest(f"`dimension` must be a positive integer, got {op.dimension}")
    if op.metric not in _METRICS:
        raise InvalidRequest(f"`metric` must be cosine, dot or euclidean, got {op.metric!r}")
    number = fetch_row(conn, "SELECT nextval('mastra_vector_tables')")[0]
    table = f"mastra_vec_{number}"
    created = conn.execute(
        "INSERT INTO mastra_vector_indexes (name, dimension, metric, table_name, created_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING name",
        (op.index_name, op.dimension, op.metric, table, time.time()),
    ).fetchone()
    if created is None:  # it exists (perhaps created by another process just now)
        existing = _index(conn, op.index_name)
        if (existing.dimension, existing.metric) != (op.dimension, op.metric):
            raise IndexExists(
                f"vector index {op.index_name!r} exists with dimension {existing.dimension}"
                f" and metric {existing.metric!r}"
            )
        return _info(conn, existing)
    ops = _METRICS[op.metric][0]
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id text PRIMARY KEY, embedding vector({}) NOT NULL,"
            " metadata jsonb NOT NULL)"
        ).format(sql.Identifier(table), sql.Literal(op.dimension))
    )
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding {})").format(
            sql.Identifier(f"{table}_hnsw"), sql.Identifier(table), sql.SQL(ops)
        )
    )
    return IndexInfo(name=op.index_name, dimension=op.dimension, metric=op.metric, count=0)


def _upsert(conn: Conn, op: Upsert) -> list[str]:
    index = _index(conn, op.index_name, lock=True)
    matrix = _as_matrix(op, index.dimension)
    n = len(op.vectors)
    ids = op.ids if op.ids is not None else [str(uuid.uuid4()) for _ in range(n)]
    metadata = op.metadata if op.metadata is not None else [{} for _ in range(n)]
    for field, values in (("ids", ids), ("metadata", metadata)):
        if len(values) != n:
            raise InvalidRequest(f"`{field}` has {len(values)} entries for {n} vectors")
    if len(set(ids)) != n:
        raise InvalidRequest("`ids` must not repeat within one upsert")
    rows = [
        (vid, _vector_text(matrix[i]), dump_json(meta, f"metadata[{i}]"))
        for i, (vid, meta) in enumerate(zip(ids, metadata, strict=True))
    ]
    statement = sql.SQL(
        "INSERT INTO {} (id, embedding, metadata) VALUES (%s, %s::vector, %s::jsonb)"
        " ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding,"
        " metadata = excluded.metadata"
    ).format(sql.Identifier(index.table))
    with conn.cursor() as cur:
        cur.executemany(statement, rows)
    return list(ids)


def _delete(conn: Conn, op: DeleteVectors) -> list[str]:
    index = _index(conn, op.index_name, lock=True)
    condition = filter_sql(op.filter)
    where, args = "id = ANY(%s)", [list(op.ids)]
    if condition is not None:
        where, args = f"{where} OR {condition[0]}", [*args, *condition[1]]
    statement = sql.SQL("DELETE FROM {} WHERE " + where + " RETURNING id").format(
        sql.Identifier(index.table)
    )
    return sorted(r[0] for r in conn.execute(statement, args).fetchall())


def run_pgvector_read(conn: Conn, op: VectorRead, ef_search: int = 100) -> object:
    """Answer a query, the list of indexes, or the description of one index."""
    match op:
        case Query():
            return _query(conn, op, ef_search)
        case DescribeIndex():
            return _info(conn, _index(conn, op.index_name))
        case _:
            rows = conn.execute("SELECT name FROM mastra_vector_indexes").fetchall()
            return sorted(r[0] for r in rows)


def _query(conn: Conn, op: Query, ef_search: int) -> list[QueryResult]:
    index = _index(conn, op.index_name)
    if len(op.query_vector) != index.dimension:
        raise DimensionMismatch(
            f"vector index {op.index_name!r} expects dimension {index.dimension},"
            f" got {len(op.query_vector)} at `query_vector`"
        )
    if op.top_k < 0:
        raise InvalidRequest(f"`top_k` must be >= 0, got {op.top_k}")
    vector = np.asarray(op.query_vector, dtype=np.float32)
    if not np.isfinite(vector).all():
        raise InvalidRequest("`query_vector` must hold finite numbers only")
    condition = filter_sql(op.filter)
    if op.top_k == 0:
        return []
    if condition is None:  # the HNSW graph, searched at least top_k wide
        conn.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(ef_search, op.top_k))}")
    else:  # pgvector filters after the graph search: an exact scan finds all top_k
        conn.execute("SET LOCAL enable_indexscan = off")
    _, operator, score = _METRICS[index.metric]
    where, args = ("", []) if condition is None else (f" WHERE {condition[0]}", condition[1])
    extra = ", embedding::text" if op.include_vector else ""
    statement = sql.SQL(
        "SELECT id, metadata::text, d" + extra + " FROM (SELECT id, metadata, embedding,"
        " embedding " + operator + " %s::vector AS d FROM {}" + where + " ORDER BY"
        " embedding " + operator + " %s::vector LIMIT %s) AS hits"
    ).format(sql.Identifier(index.table))
    text = _vector_text(vector)
    rows = conn.execute(statement, [text, *args, text, op.top_k]).fetchall()
    return [_hit(row, score, op) for row in rows if _passes(_score(score, row[2]), op)]


def _score(formula: str, d: float) -> float:
    if formula == "1 - d":
        return 1.0 - d
    if formula == "-d":
        return -d
    return 1.0 / (1.0 + d)


def _passes(score: float, op: Query) -> bool:
    return op.min_score is None or score >= op.min_score


def _hit(row: tuple[Any, ...], formula: str, op: Query) -> QueryResult:
    return QueryResult(
        id=row[0],
        score=_score(formula, row[2]),
        metadata=_load_meta(row[1]),
        vector=_load_floats(row[3]) if op.include_vector else None,
    )
