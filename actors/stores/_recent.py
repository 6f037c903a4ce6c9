"""What the store remembers between requests so an agent turn needs no read thread hop.

An agent turn reads the newest messages of its thread and makes sure the thread exists,
then appends the turn. Both reads are answered from memory when possible:

* the ids of threads known to exist (an ``EnsureThread`` for one of them needs no write);
* per thread, a *window*: the newest messages in order, or all of them (``complete``),
  sized to what its readers ask for (so memory stays bounded: at most ``windows`` windows of
  at most ``window`` messages each).

The store actor is the only writer of its database, so every committed write is applied
to this cache on the Trio thread before its sender is acknowledged; a read that raced with
a commit to the same thread is not remembered (it may predate the commit). Everything is
bounded (least recently used threads are forgotten) and all methods are synchronous and
cheap: they run on the Trio thread.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence

from actors.stores._sql import Failure
from actors.stores.messages import (
    Delete,
    Deleted,
    DeleteMessages,
    DeleteThread,
    DeleteWorkflowRun,
    EnsureThread,
    GetMessages,
    LoadThread,
    MessageRecord,
    PruneMessages,
    PruneWorkflowRuns,
    Put,
    SaveMessages,
    SaveResource,
    SaveThread,
    SaveWorkflowRun,
    SetWorkingMemory,
    StoreWrite,
    Transaction,
)

__all__ = ["RecentCache"]

_SLACK = 32  # messages kept beyond what readers of a thread ask for


def _order(record: MessageRecord) -> tuple[float, int]:
    return (record.created_at, record.seq)


_LEAVE_CACHE_ALONE: frozenset[type] = frozenset(
    {
        Put,
        Delete,
        SaveResource,
        SetWorkingMemory,
        SaveWorkflowRun,
        DeleteWorkflowRun,
        PruneWorkflowRuns,
    }
)
"""Writes that change neither threads nor messages: a commit skips them without matching
them against ``_apply``'s cases (a write not listed here always goes through ``_apply``)."""


class _Window:
    __slots__ = ("complete", "ids", "limit", "records")

    def __init__(self, records: list[MessageRecord], *, complete: bool, limit: int) -> None:
        self.records = records
        self.ids = {r.id for r in records}
        self.complete = complete
        self.limit = limit  # how many it keeps: what readers ask for, plus slack

    def answer(self, last: int | None) -> list[MessageRecord] | None:
        if last is None:
            return list(self.records) if self.complete else None
        if last <= 0:
            return None
        if self.complete or last <= len(self.records):
            return self.records[-last:]
        return None

    def save(self, record: MessageRecord) -> list[MessageRecord]:
        """Place ``record``; returns the records that fell out of the window."""
        records = self.records
        if record.id in self.ids:  # an update keeps created_at and seq: same place
            for index in range(len(records) - 1, -1, -1):
                if records[index].id == record.id:
                    records[index] = record
                    return []
        if not self.complete and (not records or _order(record) < _order(records[0])):
            return []  # an older message outside the window: the newest ones did not change
        if not records or _order(record) >= _order(records[-1]):
            records.append(record)  # the usual case: a new message, newest of all
        else:
            bisect.insort(records, record, key=_order)
        self.ids.add(record.id)
        excess = len(records) - self.limit
        if excess <= 0:
            return []
        dropped = records[:excess]
        for old in dropped:
            self.ids.discard(old.id)
        del records[:excess]
        self.complete = False
        return dropped

    def drop(self, ids: set[str]) -> None:
        # The newest N minus some is still the newest N - k: the window stays right.
        if self.ids & ids:
            self.records = [r for r in self.records if r.id not in ids]
            self.ids -= ids


class RecentCache:
    """Known threads and recent-message windows of one store; see the module docstring."""

    def __init__(self, *, threads: int = 4096, windows: int = 1024, window: int = 256) -> None:
        self._known: OrderedDict[str, None] = OrderedDict()
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._thread_of: dict[str, str] = {}  # message id -> thread, for every windowed one
        self._max_known = threads
        self._max_windows = windows
        self._window = window
        self._reading: dict[str, int] = {}
        self._raced: set[str] = set()
        self.hits = 0
        self.misses = 0

    # -- threads ---------------------------------------------------------------------------
    def knows_thread(self, thread_id: str) -> bool:
        """Whether ``thread_id`` is known to exist (committed)."""
        if thread_id in self._known:
            self._known.move_to_end(thread_id)
            return True
        return False

    def _know(self, thread_id: str) -> None:
        self._known[thread_id] = None
        self._known.move_to_end(thread_id)
        if len(self._known) > self._max_known:
            self._known.popitem(last=False)

    # -- message windows -------------------------------------------------------------------
    def messages(self, op: GetMessages) -> list[MessageRecord] | None:
        """The answer to ``op`` from memory, or None when it must be read from the database."""
        window = self._windows.get(op.thread_id)
        found = None if window is None else window.answer(op.last)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._windows.move_to_end(op.thread_id)
        return found

    def reading(self, thread_id: str) -> None:
        """A database read of ``thread_id``'s messages starts (pair with ``read``)."""
        self._reading[thread_id] = self._reading.get(thread_id, 0) + 1

    def read(self, op: GetMessages, records: list[MessageRecord] | None) -> None:
        """The read started by ``reading`` ended with ``records`` (None: it failed).

        Remembered unless a write to the same thread committed while it ran.
        """
        thread = op.thread_id
        left = self._reading[thread] - 1
        raced = thread in self._raced
        if left:
            self._reading[thread] = left
        else:
            del self._reading[thread]
            self._raced.discard(thread)
        if records is None or raced:
            return
        self._remember(op, records)

    def _remember(self, op: GetMessages, records: list[MessageRecord]) -> None:
        """Keep ``records``, the answer to ``op`` as of the last commit, as the thread's window."""
        thread = op.thread_id
        if len(records) > self._window:
            return
        complete = op.last is None or len(records) < op.last
        wanted = self._window if op.last is None else min(op.last + _SLACK, self._window)
        self._drop_window(thread)
        self._windows[thread] = _Window(list(records), complete=complete, limit=wanted)
        self._thread_of.update((r.id, thread) for r in records)
        if len(self._windows) > self._max_windows:
            self._drop_window(next(iter(self._windows)))

    def _drop_window(self, thread: str) -> None:
        window = self._windows.pop(thread, None)
        if window is not None:
            for message_id in window.ids:
                del self._thread_of[message_id]

    # -- commits ---------------------------------------------------------------------------
    def committed(self, ops: Sequence[StoreWrite | LoadThread], outcomes: Sequence[object]) -> None:
        """Apply a committed batch (in commit order); failed writes changed nothing."""
        for op, outcome in zip(ops, outcomes, strict=True):
            if type(op) in _LEAVE_CACHE_ALONE or isinstance(outcome, Failure):
                continue
            if isinstance(op, Transaction):
                assert isinstance(outcome, list)
                for inner, result in zip(op.ops, outcome, strict=True):
                    self._apply(inner, result)
            else:
                self._apply(op, outcome)

    def _touch(self, thread_id: str) -> None:
        if thread_id in self._reading:
            self._raced.add(thread_id)

    def _apply(self, op: object, outcome: object) -> None:
        match op:
            case SaveThread(id=thread) | EnsureThread(id=thread):
                self._know(thread)
            case LoadThread(thread_id=thread, last=last):  # read in its commit: up to date
                assert isinstance(outcome, list)
                self._know(thread)
                self._remember(GetMessages(thread_id=thread, last=last), outcome)
            case DeleteThread(thread_id=thread):
                self._known.pop(thread, None)
                self._drop_window(thread)
                self._touch(thread)
            case SaveMessages():
                assert isinstance(outcome, list)
                for record in outcome:
                    self._touch(record.thread_id)
                    self._save(record)
            case DeleteMessages() | PruneMessages():
                assert isinstance(outcome, Deleted)
                self._forget(set(outcome.ids))

    def _save(self, record: MessageRecord) -> None:
        window = self._windows.get(record.thread_id)
        if window is None:
            return
        for dropped in window.save(record):
            del self._thread_of[dropped.id]
        if record.id in window.ids:
            self._thread_of[record.id] = record.thread_id

    def _forget(self, ids: set[str]) -> None:
        if not ids:
            return
        for thread in self._reading:
            self._raced.add(thread)  # a deleted id's thread is unknown here: be safe
        by_thread: dict[str, set[str]] = {}
        for message_id in ids & self._thread_of.keys():
            by_thread.setdefault(self._thread_of.pop(message_id), set()).add(message_id)
        for thread, gone in by_thread.items():
            self._windows[thread].drop(gone)
