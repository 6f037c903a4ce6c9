"""Durable state behind actors: the SQLite store, the usearch vector store, their Postgres
and pgvector counterparts, a cache, retention.

The message vocabularies are in ``actors.stores.messages`` (SQLite store) and
``actors.stores.vector_messages`` (vector store); errors in ``actors.stores.StoreError``'s tree.
"""

from typing import TYPE_CHECKING, Any

from actors.stores._errors import (
    DimensionMismatch,
    FilterError,
    IndexExists,
    InvalidRequest,
    LeaseLost,
    NotFound,
    StoreError,
    StoreUnavailable,
    UnknownIndex,
)
from actors.stores._filter import compile_filter
from actors.stores.cache import CacheActor, LRUCache, embedding_key
from actors.stores.retention import delete_thread, prune_messages
from actors.stores.sqlite import SqliteStore

if TYPE_CHECKING:
    from actors.stores.pgvector import PgVectorStore
    from actors.stores.postgres import PostgresStore
    from actors.stores.vector import VectorStore


def __getattr__(name: str) -> Any:
    # The vector store pulls in numpy and usearch (most of a second to import), the Postgres
    # stores psycopg (an optional extra): load them only when asked for, so processes that
    # need SQLite alone start fast.
    if name == "VectorStore":
        from actors.stores.vector import VectorStore

        return VectorStore
    if name == "PostgresStore":
        from actors.stores.postgres import PostgresStore

        return PostgresStore
    if name == "PgVectorStore":
        from actors.stores.pgvector import PgVectorStore

        return PgVectorStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CacheActor",
    "DimensionMismatch",
    "FilterError",
    "IndexExists",
    "InvalidRequest",
    "LRUCache",
    "LeaseLost",
    "NotFound",
    "PgVectorStore",
    "PostgresStore",
    "SqliteStore",
    "StoreError",
    "StoreUnavailable",
    "UnknownIndex",
    "VectorStore",
    "compile_filter",
    "delete_thread",
    "embedding_key",
    "prune_messages",
]
