"""Structured logging: every record carries the actor name and the trace id.

``configure_logging`` installs one handler on the root logger that writes human-readable
lines or JSON lines (one object per line), as chosen by ``LoggingConfig.format``.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

import msgspec
from opentelemetry import trace

from runtime._config import LoggingConfig
from runtime._current import current_cell

__all__ = ["ContextFilter", "JsonFormatter", "configure_logging"]

_HANDLER_NAME = "runtime"
_json = msgspec.json.Encoder()


class ContextFilter(logging.Filter):
    """Adds ``actor`` (the current actor's name or ``-``) and ``trace_id`` to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        cell = current_cell.get()
        record.actor = cell.name if cell is not None else "-"
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = f"{ctx.trace_id:032x}" if ctx.is_valid else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, actor, trace_id, extras."""

    _skip = frozenset(logging.makeLogRecord({}).__dict__) | {"actor", "trace_id", "message"}

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "actor": getattr(record, "actor", "-"),
            "trace_id": getattr(record, "trace_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in self._skip:
                data[key] = value if isinstance(value, (str, int, float, bool)) else repr(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return _json.encode(data).decode()


HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(actor)s %(trace_id).8s] %(message)s"


def configure_logging(config: LoggingConfig, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) the runtime's handler on the root logger and set the level."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    if config.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(HUMAN_FORMAT))
    root.addHandler(handler)
    root.setLevel(config.level)
    return handler
