"""Retention across the two stores: delete a thread or prune a resource's messages, and remove
the vectors that were indexed for those messages (their vector ids are the message ids).

The SQLite delete commits first; the vector delete follows. If the caller is cancelled or the
vector store fails in between, the messages are gone and a later call with the same ids (or a
``DeleteVectors`` by filter) removes the leftover vectors: deleting twice is harmless.
"""

from __future__ import annotations

from typing import Any

from actors.stores.messages import Deleted, DeleteThread, PruneMessages
from actors.stores.vector_messages import DeleteVectors
from runtime import ActorRef

__all__ = ["delete_thread", "prune_messages"]


async def delete_thread(
    store: ActorRef,
    thread_id: str,
    *,
    vectors: ActorRef | None = None,
    index_name: str | None = None,
) -> list[str]:
    """Delete a thread, its messages and (when ``vectors``/``index_name`` are given) their
    vectors; return the deleted message ids. Raises what the stores raise.
    """
    deleted: Deleted = await store.ask(DeleteThread(thread_id=thread_id))
    await _drop_vectors(vectors, index_name, deleted.ids)
    return deleted.ids


async def prune_messages(
    store: ActorRef,
    resource_id: str,
    *,
    keep_last: int | None = None,
    older_than: float | None = None,
    protect_importance: float | None = None,
    vectors: ActorRef | None = None,
    index_name: str | None = None,
) -> list[str]:
    """Prune a resource's messages by age and count (least important first, see
    ``PruneMessages``), then their vectors; return the deleted message ids.
    """
    request = PruneMessages(
        resource_id=resource_id,
        keep_last=keep_last,
        older_than=older_than,
        protect_importance=protect_importance,
    )
    deleted: Deleted = await store.ask(request)
    await _drop_vectors(vectors, index_name, deleted.ids)
    return deleted.ids


async def _drop_vectors(vectors: ActorRef | None, index_name: str | None, ids: list[str]) -> Any:
    if vectors is None or index_name is None or not ids:
        return None
    return await vectors.ask(DeleteVectors(index_name=index_name, ids=ids))
