"""An incremental Server-Sent Events decoder (WHATWG event-stream rules).

Bytes arrive in arbitrary pieces: a piece may end inside a line, between the ``\\r`` and
``\\n`` of a CRLF, or inside a multi-byte UTF-8 character. Lines are split on bytes (CRLF,
LF or CR) and decoded only when complete, so a split character is never decoded in halves.

```python
decoder = SSEDecoder()
for piece in pieces:
    for event in decoder.feed(piece):
        ...
decoder.close()   # at end of input: events still unterminated are dropped (per the spec)
```
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_sse"]

_BOM = "\ufeff"


class ServerSentEvent:
    """One dispatched event: ``event`` (None for the default type), ``data``, ``id``, ``retry``."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self, event: str | None, data: str, id: str | None = None, retry: int | None = None
    ) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry) == (
            other.event,
            other.data,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class SSEDecoder:
    """Turns byte pieces into ``ServerSentEvent`` values; one decoder per stream.

    Raises ``UnicodeDecodeError`` for a complete line that is not UTF-8.
    """

    __slots__ = ("_buffer", "_data", "_event", "_last_id", "_retry", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False
        self._started = False
        self._event: str | None = None
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None

    @property
    def pending(self) -> bool:
        """True when a partial line or an undispatched event is buffered."""
        return bool(self._buffer) or bool(self._data) or self._event is not None

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """Add bytes; return the events completed by them, in order."""
        if not piece:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if piece[:1] == b"\n":
                piece = piece[1:]
        buffer = self._buffer + piece
        lines = buffer.splitlines(keepends=True)
        last = lines[-1] if lines else b""
        if last and not last.endswith((b"\n", b"\r")):
            self._buffer = last
            lines.pop()
        else:
            self._buffer = b""
        if last.endswith(b"\r"):
            self._skip_lf = True  # a CRLF may be split between this piece and the next
        events: list[ServerSentEvent] = []
        for raw in lines:
            event = self._line(raw.rstrip(b"\r\n").decode("utf-8"))
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of input: process a last unterminated line; drop an undispatched event."""
        events: list[ServerSentEvent] = []
        if self._buffer:
            event = self._line(self._buffer.decode("utf-8"))
            self._buffer = b""
            if event is not None:
                events.append(event)
        self._event, self._data, self._retry = None, [], None
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not self._started:
            self._started = True
            line = line.removeprefix(_BOM)
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data and self._event is None and self._retry is None:
            return None
        event = ServerSentEvent(
            self._event or None, "\n".join(self._data), self._last_id, self._retry
        )
        self._event, self._data, self._retry = None, [], None
        return event


async def aiter_sse(pieces: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Decode an async iterable of byte pieces into events as they complete.

    Cancellation: stops with the iteration of ``pieces``; nothing is buffered beyond it.
    """
    decoder = SSEDecoder()
    async for piece in pieces:
        for event in decoder.feed(piece):
            yield event
    for event in decoder.close():
        yield event
