"""The vector store's message vocabulary (Mastra's vector API: indexes, upsert, query).

Scores are "higher is closer": cosine similarity for ``cosine``, the inner product for
``dot``, and ``1 / (1 + distance)`` for ``euclidean``.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "CreateIndex",
    "DeleteIndex",
    "DeleteVectors",
    "DescribeIndex",
    "IndexInfo",
    "ListIndexes",
    "Metric",
    "Query",
    "QueryResult",
    "Upsert",
    "VectorRead",
    "VectorRequest",
    "VectorWrite",
]

Metric = Literal["cosine", "dot", "euclidean"]


class CreateIndex(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create a named index; a no-op when it exists with the same dimension and metric."""

    index_name: str
    dimension: int
    metric: Metric = "cosine"


class DeleteIndex(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete an index with its vectors and files; replies True if it existed."""

    index_name: str


class Upsert(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Insert or replace vectors; ``ids`` default to new UUIDs. Replies the list of ids.

    ``metadata[i]`` belongs to ``vectors[i]``; an upsert of an existing id replaces both.
    """

    index_name: str
    vectors: list[list[float]]
    ids: list[str] | None = None
    metadata: list[dict[str, Any]] | None = None


class DeleteVectors(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete vectors by id and/or every vector whose metadata matches ``filter``.

    Replies the ids that were deleted.
    """

    index_name: str
    ids: list[str] = msgspec.field(default_factory=list)
    filter: dict[str, Any] | None = None


class Query(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The ``top_k`` closest vectors that match ``filter`` and score at least ``min_score``."""

    index_name: str
    query_vector: list[float]
    top_k: int = 10
    filter: dict[str, Any] | None = None
    include_vector: bool = False
    min_score: float | None = None


class ListIndexes(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The names of every index, sorted."""


class DescribeIndex(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Dimension, metric and vector count of one index; replies ``IndexInfo``."""

    index_name: str


class QueryResult(msgspec.Struct, frozen=True, kw_only=True):
    """One match of a query."""

    id: str
    score: float
    metadata: dict[str, Any]
    vector: list[float] | None = None


class IndexInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``DescribeIndex`` replies."""

    name: str
    dimension: int
    metric: Metric
    count: int


VectorWrite = CreateIndex | DeleteIndex | Upsert | DeleteVectors
VectorRead = Query | ListIndexes | DescribeIndex
VectorRequest = VectorWrite | VectorRead
