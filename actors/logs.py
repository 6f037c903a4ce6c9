"""A bounded in-memory log transport fed by Python logging, read as Mastra's log records.

``LogTransport`` is a ``logging.Handler`` keeping the last ``capacity`` records as Mastra's
``BaseLogMessage`` objects (``level``, ``time``, ``pid``, ``hostname``, ``name``, ``msg``
and ``runId`` when known, plus the actor and trace id). The HTTP server installs one on
the root logger while it runs and serves it at ``/api/logs``.

A record's ``runId`` comes from ``extra={"runId": ...}`` (or ``run_id``), else from the
run the logging task is in: code that runs a turn or a run wraps it in ``run_scope``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from runtime._logging import ContextFilter

__all__ = ["LEVELS", "LogQuery", "LogTransport", "current_run_id", "empty_page", "run_scope"]

LogLevel = Literal["debug", "info", "warn", "error"]
LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warn", "error")

current_run_id: ContextVar[str | None] = ContextVar("current_run_id", default=None)
"""The run (agent turn, workflow run) the current task works for, if any."""

_HOSTNAME = socket.gethostname()


@contextmanager
def run_scope(run_id: str) -> Iterator[None]:
    """Records logged inside the block (by this task and the tasks it starts) carry
    ``runId``; the previous run is restored on leaving, also on failure or cancellation."""
    token = current_run_id.set(run_id)
    try:
        yield
    finally:
        current_run_id.reset(token)


def _level(levelno: int) -> LogLevel:
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    return "info" if levelno >= logging.INFO else "debug"


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Which records to list, as Mastra's ``listLogs`` takes them: an exact ``level``,
    a time window (epoch seconds, inclusive), fields that must equal the given text,
    and a 1-based page."""

    level: LogLevel | None = None
    since: float | None = None
    until: float | None = None
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    per_page: int = 100

    def matches(self, record: dict[str, Any], created: float) -> bool:
        """Whether ``record`` (made at ``created``) is one this query lists."""
        if self.level is not None and record["level"] != self.level:
            return False
        if (self.since is not None and created < self.since) or (
            self.until is not None and created > self.until
        ):
            return False
        return all(str(record.get(key)) == value for key, value in self.filters.items())


class LogTransport(logging.Handler):
    """Keeps the last ``capacity`` records, oldest dropped first. Thread-safe: records may
    come from any thread; reading copies under the handler's lock (held only for appends).
    A record that cannot be converted is reported by ``logging`` and dropped."""

    def __init__(self, transport_id: str = "memory", capacity: int = 1000) -> None:
        super().__init__()
        self.transport_id = transport_id
        self._records: deque[tuple[float, dict[str, Any]]] = deque(maxlen=capacity)
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        """Store ``record`` as a Mastra log record."""
        try:
            self._records.append((record.created, self._json(record)))
        except Exception:
            self.handleError(record)

    def _json(self, record: logging.LogRecord) -> dict[str, Any]:
        created = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "level": _level(record.levelno),
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "pid": os.getpid(),
            "hostname": _HOSTNAME,
            "name": record.name,
            "msg": record.getMessage(),
            "actor": getattr(record, "actor", "-"),
            "traceId": getattr(record, "trace_id", "-"),
        }
        run_id = getattr(record, "runId", None) or getattr(record, "run_id", None)
        run_id = run_id or current_run_id.get()
        if run_id:
            data["runId"] = str(run_id)
        if record.exc_info:
            data["err"] = logging.Formatter().formatException(record.exc_info)
        return data

    def page(self, query: LogQuery, run_id: str | None = None) -> dict[str, Any]:
        """One page of the matching records (of ``run_id`` only, when given), oldest first,
        in Mastra's shape ``{logs, total, page, perPage, hasMore}``."""
        with self.lock if self.lock is not None else _no_lock():
            records = list(self._records)
        found = [
            data
            for created, data in records
            if (run_id is None or data.get("runId") == run_id) and query.matches(data, created)
        ]
        start = (query.page - 1) * query.per_page
        end = start + query.per_page
        return {
            "logs": found[start:end],
            "total": len(found),
            "page": query.page,
            "perPage": query.per_page,
            "hasMore": end < len(found),
        }


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


def empty_page(query: LogQuery) -> dict[str, Any]:
    """What listing an unknown transport answers, as Mastra does."""
    return {"logs": [], "total": 0, "page": query.page, "perPage": query.per_page, "hasMore": False}
