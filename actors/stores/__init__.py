"""Durable state behind actors: the SQLite store, the usearch vector store, a cache, retention.

The message vocabularies are in ``actors.stores.messages`` (SQLite store) and
``actors.stores.vector_messages`` (vector store); errors in ``actors.stores.StoreError``'s tree.
"""

from actors.stores._errors import (
    DimensionMismatch,
    FilterError,
    IndexExists,
    InvalidRequest,
    NotFound,
    StoreError,
    StoreUnavailable,
    UnknownIndex,
)
from actors.stores._filter import compile_filter
from actors.stores.cache import CacheActor, LRUCache, embedding_key
from actors.stores.retention import delete_thread, prune_messages
from actors.stores.sqlite import SqliteStore
from actors.stores.vector import VectorStore

__all__ = [
    "CacheActor",
    "DimensionMismatch",
    "FilterError",
    "IndexExists",
    "InvalidRequest",
    "LRUCache",
    "NotFound",
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
