"""Thread-side access to one SQLite database through apsw: one writer, a pool of readers.

Every method here blocks; store actors call them through ``trio.to_thread.run_sync`` with
their own ``CapacityLimiter``. An apsw connection must never be used by two threads at once,
so the writer connection is only touched under ``_write_lock`` (held by the single writer
task's thread), and each reader connection is checked out of a pool for one read.

File databases run in WAL mode: readers see the last committed state while the writer
works, and a ``Checkpointer`` thread keeps the WAL short without stalling commits. A
``:memory:`` database has a single connection, so reads take the write lock and never
observe a batch that is not committed yet.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import apsw
import msgspec

from actors.stores._checkpoint import Checkpointer
from actors.stores._errors import InvalidRequest, StoreError, StoreUnavailable
from actors.stores._schema import migrate

__all__ = ["Database", "Failure", "Synchronous", "dump_json", "fetch_one", "load_json"]

T = TypeVar("T")
W = TypeVar("W")
Synchronous = Literal["off", "normal", "full"]

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


def dump_json(value: object, field: str) -> str:
    """Encode ``value`` as JSON text; ``InvalidRequest`` naming ``field`` if it cannot be."""
    try:
        return _json_encode(value).decode()
    except (TypeError, msgspec.EncodeError) as exc:
        raise InvalidRequest(f"`{field}` is not JSON-encodable: {exc}") from None


def load_json(text: str) -> Any:
    """Decode JSON text written by ``dump_json``."""
    return _json_decode(text)


def fetch_one(conn: apsw.Connection, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The first row of a statement that always yields one (``RETURNING``, ``count(*)``)."""
    row = conn.execute(sql, args).fetchone()
    if row is None:
        raise StoreError(f"statement returned no row: {sql[:60]}")
    return tuple(row)


@dataclass(frozen=True, slots=True)
class Failure:
    """The outcome of one write in a batch that failed on its own (the rest committed)."""

    error: Exception


class Database:
    """One SQLite database: schema migrated at open, a writer connection, reader connections.

    ``path`` is a file path or ``":memory:"``. ``synchronous="full"`` makes every commit
    durable across power loss (one fsync per commit, which group commit amortizes);
    ``"normal"`` is durable across a process crash only. A busy or locked database is retried
    with backoff for up to ``retry_budget`` seconds, then ``StoreUnavailable`` is raised.
    """

    def __init__(
        self,
        path: str,
        *,
        readers: int = 4,
        synchronous: Synchronous = "full",
        retry_budget: float = 30.0,
    ) -> None:
        if readers < 1:
            raise InvalidRequest(f"`readers` must be at least 1, got {readers}")
        self.path = path
        self.memory = path == ":memory:" or path.startswith("file::memory:")
        self._retry_budget = retry_budget
        self._write_lock = threading.Lock()
        self._readers: queue.Queue[apsw.Connection] = queue.Queue()
        self._all: list[apsw.Connection] = []
        self._owner: int | None = None
        self._checkpointer: Checkpointer | None = None
        if not self.memory and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # e.g. data/ on a fresh clone
            self._owner = _claim(path)
        try:
            self._writer = self._connect(synchronous)
            self._retry(lambda: migrate(self._writer))
            if not self.memory:
                self._checkpointer = Checkpointer(path)
                self._checkpointer.attach(self._writer)
                for _ in range(readers):
                    conn = self._connect(synchronous)
                    conn.execute("PRAGMA query_only = ON")
                    self._readers.put(conn)
        except BaseException:
            self.close()  # connections and the claim: a retry must be able to open it
            raise

    def _connect(self, synchronous: Synchronous) -> apsw.Connection:
        conn = apsw.Connection(self.path)
        self._all.append(conn)
        conn.set_busy_timeout(200)
        if not self.memory:
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchall())
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        return conn

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self._retry_budget
        delay = 0.001
        while True:
            try:
                return fn()
            except (apsw.BusyError, apsw.LockedError):
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"the database {self.path!r} stayed busy for {self._retry_budget}s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def write_batch(
        self, ops: Sequence[W], apply: Callable[[apsw.Connection, W], T]
    ) -> list[T | Failure]:
        """Apply ``ops`` in order in ONE transaction and commit it; return one outcome per op.

        An op that raises ``StoreError`` or violates a constraint is rolled back alone (its
        savepoint) and yields a ``Failure``; the others commit. Busy errors retry the whole
        batch. Any other error rolls everything back and propagates (nothing committed).
        """
        with self._write_lock:
            results = self._retry(lambda: self._run_batch(ops, apply))
            if self._checkpointer is not None:
                self._checkpointer.catch_up(self._writer)
            return results

    def _run_batch(
        self, ops: Sequence[W], apply: Callable[[apsw.Connection, W], T]
    ) -> list[T | Failure]:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            try:  # optimistic: no savepoint per write while nothing fails
                results: list[T | Failure] = [apply(conn, op) for op in ops]
            except (apsw.ConstraintError, StoreError):
                conn.execute("ROLLBACK")  # redo with a savepoint each, failing writes alone
                conn.execute("BEGIN IMMEDIATE")
                results = [_apply_one(conn, op, apply) for op in ops]
            conn.execute("COMMIT")
        except BaseException:
            if not conn.get_autocommit():
                conn.execute("ROLLBACK")
            raise
        return results

    def read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` on a reader connection inside one read transaction (a snapshot)."""
        if self.memory:
            with self._write_lock:
                return self._retry(lambda: fn(self._writer))
        conn = self._readers.get()
        try:
            return self._retry(lambda: _in_read_transaction(conn, fn))
        finally:
            self._readers.put(conn)

    def close(self) -> None:
        """Close every connection (the last one checkpoints the WAL). Idempotent."""
        with self._write_lock:
            checkpointer, self._checkpointer = self._checkpointer, None
            if checkpointer is not None:
                checkpointer.close()
            while self._all:
                self._all.pop().close()
            owner, self._owner = self._owner, None
            if owner is not None:
                os.close(owner)  # releases the claim


def _claim(path: str) -> int:
    """Claim ``path`` for this ``Database`` with an exclusive lock on ``path + ".lock"``;
    returns the lock's file descriptor (closing it releases the claim, as does the death of
    the process). Raises ``StoreUnavailable`` naming the holder when another ``Database``
    (in this or another process) has it: one writer per file keeps group commit, the cache
    of recent messages and workflow recovery correct."""
    lock = f"{path}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreUnavailable(
            f"the database {path!r} is in use by another store (process {holder}); "
            "stop it or use another path"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _apply_one(
    conn: apsw.Connection, op: W, apply: Callable[[apsw.Connection, W], T]
) -> T | Failure:
    conn.execute("SAVEPOINT op")
    try:
        value = apply(conn, op)
    except apsw.ConstraintError as exc:
        conn.execute("ROLLBACK TO op; RELEASE op")
        return Failure(InvalidRequest(f"{type(op).__name__} violates a constraint: {exc}"))
    except StoreError as exc:
        conn.execute("ROLLBACK TO op; RELEASE op")
        return Failure(exc)
    conn.execute("RELEASE op")
    return value


def _in_read_transaction(conn: apsw.Connection, fn: Callable[[apsw.Connection], T]) -> T:
    conn.execute("BEGIN")
    try:
        return fn(conn)
    finally:
        conn.execute("COMMIT")
