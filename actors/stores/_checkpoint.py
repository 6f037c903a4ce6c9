"""WAL checkpoints on a thread of their own, off the path of every commit.

SQLite's automatic checkpoint runs inside the commit that pushes the WAL past 1000 pages:
that one commit copies every page back into the database file and syncs it, and every
commit pays for it in turn (here it made up over half of a small commit's cost). A
``Checkpointer`` takes that job: the writer connection's WAL hook (which replaces the
automatic checkpoint) wakes it past the same threshold, and it runs a ``PASSIVE``
checkpoint on its own connection while the writer goes on appending to the WAL. The WAL
restarts from its beginning at the first commit after a checkpoint caught up with it; under
writes that never pause it would not, so past four times the threshold the writer calls
``catch_up`` between transactions and checkpoints the little that is left itself.
Durability does not change: a commit is in the WAL before it is acknowledged, and the
checkpoint only copies committed pages into the database file.
"""

from __future__ import annotations

import logging
import threading

import apsw

__all__ = ["Checkpointer"]

log = logging.getLogger("actors.stores")


class Checkpointer:
    """Keeps the WAL of ``path`` short from a background thread; ``close`` joins it.

    Attach it to the one writer connection with ``attach``. A checkpoint that finds the
    database busy is simply tried again at the next wake-up; other errors are logged.
    """

    def __init__(self, path: str, *, threshold: int = 1000) -> None:
        self._threshold = threshold
        self._pages = 0
        self._conn = apsw.Connection(path)
        self._conn.set_busy_timeout(200)
        self._wake = threading.Event()
        self._one_at_a_time = threading.Lock()
        self._closing = False
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._main, name="store-checkpoint", daemon=True)
        self._thread.start()

    def attach(self, writer: apsw.Connection) -> None:
        """Take over checkpoints from ``writer`` (its automatic checkpoint stops)."""
        writer.set_wal_hook(self._on_commit)

    def _on_commit(self, _conn: apsw.Connection, _name: str, pages: int) -> int:
        # Runs on the writer's thread after each commit, with the WAL's size in pages.
        self._pages = pages
        if pages >= self._threshold:
            self._wake.set()
        return apsw.SQLITE_OK

    def catch_up(self, writer: apsw.Connection) -> None:
        """On the writer's thread, between its transactions: past four times the threshold,
        checkpoint from ``writer`` (after a background checkpoint in progress, which leaves
        little to do) so that the next commit restarts the WAL."""
        if self._pages < 4 * self._threshold:
            return
        with self._one_at_a_time:
            try:
                writer.wal_checkpoint()
            except apsw.Error:  # the batch has committed: a failed checkpoint must not fail it
                log.exception("a WAL checkpoint failed; the next batch will retry")
                return
        self._pages = 0

    def _main(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            try:
                with self._one_at_a_time:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except (apsw.BusyError, apsw.LockedError):
                continue
            except apsw.Error:
                log.exception("a WAL checkpoint failed; the next commit will retry")
                continue
            self.checkpoints += 1

    def close(self) -> None:
        """Stop the thread (after a checkpoint in progress) and close its connection."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        self._conn.close()
