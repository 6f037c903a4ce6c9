"""Thread-side access to a Postgres database through a psycopg 3 connection pool.

Every method here blocks; store actors call them through ``trio.to_thread.run_sync`` with
their own ``CapacityLimiter`` (reads) or from their group-commit writer thread (writes).
Each connection is checked before it is handed out (see ``_check``), so connections broken
by a restart of the server are replaced instead of failing a request, and a server that is
down turns into ``StoreUnavailable`` within ``timeout`` seconds; nothing needs a restart
once it is back.

Many processes may share one database: schema migrations take an advisory lock, a batch
that deadlocks with another process's batch or fails to serialize is retried whole.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
import psycopg.conninfo
import psycopg.errors
import psycopg_pool

from actors.stores._errors import InvalidRequest, StoreError, StoreUnavailable
from actors.stores._pgschema import migrate
from actors.stores._sql import Failure

__all__ = ["Conn", "PgDatabase", "fetch_row", "redact"]

T = TypeVar("T")
W = TypeVar("W")
Conn = psycopg.Connection[tuple[Any, ...]]

# an op whose own data is wrong (a constraint, a NUL in a string): it fails alone
_OP_ERRORS = (psycopg.errors.IntegrityError, psycopg.errors.DataError)
# another transaction got in the way: the whole batch is tried again
_RETRY_ERRORS = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable database url>"
    host, port, db = params.get("host", "localhost"), params.get("port", 5432), params.get("dbname")
    return f"postgres://{host}:{port}/{db or ''}"


def fetch_row(conn: Conn, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The first row of a statement that always yields one (``RETURNING``, ``count(*)``)."""
    row = conn.execute(sql, args).fetchone()
    if row is None:
        raise StoreError(f"statement returned no row: {sql[:60]}")
    return row


class PgDatabase:
    """A pool of at most ``max_size`` connections to the database at ``url``.

    ``open`` (blocking) connects and applies the migrations of ``components``. A connection
    that cannot be had within ``timeout`` seconds (the server is down or unreachable) raises
    ``StoreUnavailable``; so does a connection lost in the middle of a read or a batch
    (nothing of an uncommitted batch is kept; a batch whose COMMIT was cut off may or may
    not have committed, which the idempotent writes of the store make safe to retry).
    """

    def __init__(
        self,
        url: str,
        *,
        components: Sequence[str] = ("store",),
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 5.0,
        retry_budget: float = 30.0,
    ) -> None:
        if not url:
            raise InvalidRequest("`url` of a Postgres store must be a non-empty connection URL")
        if max_size < 2:  # one for the writer, at least one for reads
            raise InvalidRequest(f"`max_connections` must be at least 2, got {max_size}")
        self.where = redact(url)
        self._components = tuple(components)
        self._timeout = timeout
        self._retry_budget = retry_budget
        self.pool: psycopg_pool.ConnectionPool[Conn] = psycopg_pool.ConnectionPool(
            url,
            min_size=min(min_size, max_size),
            max_size=max_size,
            open=False,
            timeout=timeout,
            check=_check,
            # give up reconnecting soon: the next request tries again at once, so one
            # that arrives after the server is back never waits out a long backoff
            reconnect_timeout=timeout / 4,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout))},
            name="mastra-store",
        )

    def open(self) -> None:
        """Connect and migrate; ``StoreUnavailable`` when the server cannot be reached."""
        try:
            self.pool.open(wait=True, timeout=self._timeout)
        except psycopg_pool.PoolTimeout:
            self.pool.close()
            raise StoreUnavailable(
                f"the database {self.where} is unreachable (no connection within {self._timeout}s)"
            ) from None
        try:
            with self.connection() as conn:
                for component in self._components:
                    migrate(conn, component)
        except BaseException:
            self.pool.close()
            raise

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """A pooled connection; connection-level failures become ``StoreUnavailable``."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except _RETRY_ERRORS:  # operational errors too, but the batch is tried again
            raise
        except psycopg_pool.PoolTimeout:
            raise StoreUnavailable(
                f"the database {self.where} is unavailable (no connection within {self._timeout}s)"
            ) from None
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"the database {self.where} is unavailable: {exc}") from None
        except (psycopg.InternalError, psycopg.errors.InFailedSqlTransaction) as exc:
            raise StoreUnavailable(f"the database {self.where} failed: {exc}") from None

    def write_batch(self, ops: Sequence[W], apply: Callable[[Conn, W], T]) -> list[T | Failure]:
        """Apply ``ops`` in order in ONE transaction and commit it; one outcome per op.

        An op that raises ``StoreError`` or violates a constraint is rolled back alone (a
        savepoint) and yields a ``Failure``; the others commit. When ``apply`` has a
        ``many(conn, ops)`` method, the batch is first tried with it as a whole. A deadlock
        or serialization failure retries the whole batch for up to ``retry_budget`` seconds.
        """
        deadline = time.monotonic() + self._retry_budget
        delay = 0.002
        while True:
            try:
                with self.connection() as conn:
                    return _run_batch(conn, ops, apply)
            except _RETRY_ERRORS:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"the database {self.where} kept aborting the batch (deadlocks)"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def read(self, fn: Callable[[Conn], T]) -> T:
        """Run ``fn`` on a pooled connection inside one transaction."""
        with self.connection() as conn, conn.transaction():
            return fn(conn)

    def close(self) -> None:
        """Close every connection of the pool. Idempotent."""
        self.pool.close()


def _check(conn: Conn) -> None:
    """Raise if a pooled connection is broken, without a round trip while it looks sound.

    An idle connection has nothing to read unless the server closed it (a restart, an
    administrator, an idle timeout) or sent it a notice; only then is it pinged, and a
    failed ping makes the pool replace it.
    """
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()  # not select(): descriptors may be numbered above 1024
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        psycopg_pool.ConnectionPool.check_connection(conn)


def _run_batch(conn: Conn, ops: Sequence[W], apply: Callable[[Conn, W], T]) -> list[T | Failure]:
    # ``apply.many(conn, ops)``, when ``apply`` has it, applies the whole batch at once
    # (merging statements); it raises like ``apply`` when any op fails
    many: Callable[[Conn, Sequence[W]], list[T | Failure]] | None = getattr(apply, "many", None)
    try:  # optimistic: no savepoint per write while nothing fails
        with conn.transaction():
            return many(conn, ops) if many is not None else [apply(conn, op) for op in ops]
    except (StoreError, *_OP_ERRORS):
        pass
    with conn.transaction():  # redo with a savepoint each, failing writes alone
        return [_apply_one(conn, op, apply) for op in ops]


def _apply_one(conn: Conn, op: W, apply: Callable[[Conn, W], T]) -> T | Failure:
    try:
        with conn.transaction():
            return apply(conn, op)
    except _OP_ERRORS as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Failure(InvalidRequest(f"{type(op).__name__} was refused: {detail}"))
    except StoreError as exc:
        return Failure(exc)
