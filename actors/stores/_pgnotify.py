"""Wake-ups between nodes through Postgres ``LISTEN``/``NOTIFY``.

A write that another node should react to at once (a cancel request, leases given up)
sends ``notify(conn, key)`` inside its transaction; Postgres delivers it to every listener
when that transaction commits, and never when it rolls back. ``Notices`` listens on a
connection of its own and counts, per key that somebody waits for, the notices it
received; ``wait`` returns as soon as the count differs from what the waiter saw last
(a restarted store counts from 0 again, which wakes its waiters too).

Notices are a wake-up only: a listener that was disconnected (a restart of the server)
missed whatever was sent meanwhile, so every count is bumped when it reconnects, and
waiters time out and look anyway (polling is the fallback).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import trio

__all__ = ["CHANNEL", "Notices", "notify"]

log = logging.getLogger("actors.stores")

CHANNEL = "mastra_wakeup"
_MAX_BACKOFF = 5.0


def notify(conn: Any, key: str) -> None:
    """Send ``key`` to every listener when the current transaction commits."""
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, key))


class Notices:
    """The notices received on ``CHANNEL`` from the database at ``url`` (see module).

    ``run`` listens until cancelled, reconnecting with backoff (up to 5 s) whenever the
    connection fails; it never raises a database error. Cancellation closes the connection.
    """

    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._counts: dict[str, int] = {}
        self._changed: dict[str, trio.Event] = {}

    async def wait(self, key: str, after: int, timeout: float) -> int:  # noqa: ASYNC109
        """The count of ``key``'s notices, once it is above ``after`` or ``timeout``
        seconds passed (whichever comes first). The first wait for a key starts its count
        at 0, so call it with ``timeout=0`` before the look it should wake up."""
        count = self._counts.setdefault(key, 0)
        with trio.move_on_after(timeout):
            while count <= after:
                await self._changed.setdefault(key, trio.Event()).wait()
                count = self._counts[key]
        return count

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled (see the class docstring); started once the first
        connection is listening or failed."""
        backoff = 0.1
        while True:
            try:
                conn = await trio.to_thread.run_sync(self._connect)
            except psycopg.Error as exc:
                log.debug("not listening for wake-ups: %s", exc)
                task_status.started()
                task_status = trio.TASK_STATUS_IGNORED
                await trio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            backoff = 0.1
            try:
                self._bump(list(self._counts))  # whatever was sent while nobody listened
                task_status.started()
                task_status = trio.TASK_STATUS_IGNORED
                await self._listen(conn)
            except psycopg.Error as exc:
                log.info("wake-ups interrupted, polling until reconnected: %s", exc)
            finally:
                conn.close()  # a local close: no round trip, nothing that blocks

    def _connect(self) -> psycopg.Connection[Any]:
        timeout = max(1, round(self._connect_timeout))
        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=timeout)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        return conn

    async def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while True:
            # reading a socket that is readable does not block the Trio thread
            self._bump([n.payload for n in conn.notifies(timeout=0)])
            await trio.lowlevel.wait_readable(conn.fileno())

    def _bump(self, keys: list[str]) -> None:
        for key in keys:
            if key in self._counts:  # only keys somebody waits for are counted
                self._counts[key] += 1
                event = self._changed.pop(key, None)
                if event is not None:
                    event.set()
