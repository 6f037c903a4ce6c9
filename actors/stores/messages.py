"""The store message vocabulary: requests to the SQLite store and the vector store, and replies.

Requests are frozen, kw_only, tagged msgspec Structs; replies are frozen Structs. Every one
round-trips through msgpack and JSON. Times are Unix epoch seconds (float). JSON-valued fields
(``data``, ``content``, ``snapshot``, ``metadata``) hold anything msgspec encodes as JSON.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "CheckIntegrity",
    "Delete",
    "DeleteMessages",
    "DeleteThread",
    "DeleteWorkflowRun",
    "Deleted",
    "Get",
    "GetMessages",
    "GetMessagesById",
    "GetResource",
    "GetThread",
    "GetWorkflowRun",
    "GetWorkingMemory",
    "ListRecords",
    "ListThreads",
    "ListWorkflowRuns",
    "MessageRecord",
    "NewMessage",
    "PruneMessages",
    "PruneWorkflowRuns",
    "Put",
    "Record",
    "ResourceRecord",
    "SaveMessages",
    "SaveResource",
    "SaveThread",
    "SaveWorkflowRun",
    "SetWorkingMemory",
    "StoreRead",
    "StoreRequest",
    "StoreWrite",
    "ThreadRecord",
    "Transaction",
    "TransactionOp",
    "WorkflowRunPage",
    "WorkflowRunRecord",
    "WorkflowStatus",
]

WorkflowStatus = Literal[
    "pending", "running", "success", "failed", "suspended", "waiting", "canceled", "bailed"
]
Scope = Literal["thread", "resource"]


# -- replies ------------------------------------------------------------------------------
class Record(msgspec.Struct, frozen=True, kw_only=True):
    """One record of a named collection."""

    collection: str
    id: str
    data: Any
    created_at: float
    updated_at: float


class ThreadRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation thread that belongs to a resource (a user)."""

    id: str
    resource_id: str
    title: str
    metadata: dict[str, Any]
    created_at: float
    updated_at: float


class MessageRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored message; ``seq`` orders messages created at the same instant."""

    id: str
    thread_id: str
    resource_id: str | None
    role: str
    content: Any
    type: str
    importance: float
    created_at: float
    seq: int


class ResourceRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A resource (a user) with its resource-scoped working memory."""

    id: str
    working_memory: str | None
    metadata: dict[str, Any]
    created_at: float
    updated_at: float


class WorkflowRunRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A workflow run with its latest snapshot."""

    workflow_name: str
    run_id: str
    status: str
    snapshot: Any
    resource_id: str | None
    created_at: float
    updated_at: float


class WorkflowRunPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of workflow runs (newest first) and the total matching the filters."""

    runs: list[WorkflowRunRecord]
    total: int


class Deleted(msgspec.Struct, frozen=True, kw_only=True):
    """What a delete or prune removed: the ids of the records or messages."""

    ids: list[str]


# -- writes -------------------------------------------------------------------------------
class Put(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Insert or replace the record ``id`` of ``collection``; replies the ``Record``."""

    collection: str
    id: str
    data: Any


class Delete(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete the record ``id`` of ``collection``; replies True if it existed."""

    collection: str
    id: str


class SaveThread(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create or update a thread (title and metadata); ``created_at`` is kept on update."""

    id: str
    resource_id: str
    title: str = ""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class EnsureThread(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create the thread for ``resource_id`` unless it exists (an existing thread is left
    as it is); replies None. Cheap when the store already knows the thread."""

    id: str
    resource_id: str


class DeleteThread(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete a thread and its messages; replies ``Deleted`` with the message ids."""

    thread_id: str


class NewMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message to store; saving the same ``id`` again updates it (never duplicates)."""

    id: str
    thread_id: str
    role: str
    content: Any
    resource_id: str | None = None
    type: str = "text"
    importance: float = 0.0
    created_at: float | None = None


class SaveMessages(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Insert or update messages by id; replies the stored ``MessageRecord`` list."""

    messages: list[NewMessage]


class DeleteMessages(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete messages by id; replies ``Deleted`` with the ids that existed."""

    ids: list[str]


class PruneMessages(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Retention for one resource's messages; replies ``Deleted``.

    ``older_than``: delete messages created before this time. ``keep_last``: then keep at
    most this many, deleting the least important first (ties: oldest first). Messages whose
    importance is at least ``protect_importance`` are never pruned.
    """

    resource_id: str
    keep_last: int | None = None
    older_than: float | None = None
    protect_importance: float | None = None


class SaveResource(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create or update a resource's metadata (and working memory when given)."""

    id: str
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    working_memory: str | None = None


class SetWorkingMemory(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Set the working memory of a thread (which must exist) or of a resource (upserted)."""

    scope: Scope
    id: str
    working_memory: str


class SaveWorkflowRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Insert or update the snapshot of a workflow run; replies the ``WorkflowRunRecord``."""

    workflow_name: str
    run_id: str
    status: WorkflowStatus
    snapshot: Any
    resource_id: str | None = None


class DeleteWorkflowRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete a workflow run; replies True if it existed."""

    workflow_name: str
    run_id: str


class PruneWorkflowRuns(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Delete up to ``limit`` of a workflow's finished runs (``success``, ``failed``,
    ``canceled``, ``bailed``) last saved before ``older_than`` (epoch seconds), oldest
    first; replies how many were deleted. A run that may still continue (``pending``,
    ``running``, ``waiting``, ``suspended``) is never deleted."""

    workflow_name: str
    older_than: float
    limit: int = 1000


TransactionOp = (
    Put
    | Delete
    | SaveThread
    | EnsureThread
    | DeleteThread
    | SaveMessages
    | DeleteMessages
    | PruneMessages
    | SaveResource
    | SetWorkingMemory
    | SaveWorkflowRun
    | DeleteWorkflowRun
    | PruneWorkflowRuns
)


class Transaction(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Apply ``ops`` atomically: all commit together or none; replies the list of results."""

    ops: list[TransactionOp]


StoreWrite = TransactionOp | Transaction


# -- reads --------------------------------------------------------------------------------
class Get(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Read the record ``id`` of ``collection``; replies a ``Record`` or None."""

    collection: str
    id: str


class ListRecords(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """List a collection's records by id (optionally those whose id starts with ``prefix``)."""

    collection: str
    prefix: str = ""
    limit: int | None = 100
    offset: int = 0


class GetThread(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Read one thread; replies a ``ThreadRecord`` or None."""

    thread_id: str


class ListThreads(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """List a resource's threads, newest first."""

    resource_id: str
    limit: int = 100
    offset: int = 0


class GetMessages(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A thread's messages in order; only the ``last`` N when given."""

    thread_id: str
    last: int | None = None


class GetMessagesById(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Messages by id, each with ``before`` / ``after`` neighbours from its thread, in order."""

    ids: list[str]
    before: int = 0
    after: int = 0


class GetResource(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Read one resource; replies a ``ResourceRecord`` or None."""

    resource_id: str


class GetWorkingMemory(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The working memory of a thread or resource; replies a string or None."""

    scope: Scope
    id: str


class GetWorkflowRun(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Read one workflow run; replies a ``WorkflowRunRecord`` or None."""

    workflow_name: str
    run_id: str


class ListWorkflowRuns(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Runs matching every given filter, newest first, paged by ``limit`` / ``offset``."""

    workflow_name: str | None = None
    status: WorkflowStatus | None = None
    resource_id: str | None = None
    from_date: float | None = None
    to_date: float | None = None
    limit: int | None = None
    offset: int = 0


class CheckIntegrity(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Run ``PRAGMA integrity_check``; replies the list of problems (``["ok"]`` when sound)."""


StoreRead = (
    Get
    | ListRecords
    | GetThread
    | ListThreads
    | GetMessages
    | GetMessagesById
    | GetResource
    | GetWorkingMemory
    | GetWorkflowRun
    | ListWorkflowRuns
    | CheckIntegrity
)


class LoadThread(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """What a conversation turn starts with: create the thread for ``resource_id`` unless
    it exists (as ``EnsureThread``), then reply its messages as ``GetMessages`` would."""

    thread_id: str
    resource_id: str
    last: int | None = None


StoreRequest = StoreWrite | StoreRead | LoadThread
