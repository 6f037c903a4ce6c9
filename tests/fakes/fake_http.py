"""A small HTTP/1.1 server on Trio for fake vendor APIs, written by hand so that tests
control the response bytes exactly: where the body is split into pieces, how long the
headers take, and where the connection is cut.

```python
async with open_fake_server(handler) as server:      # binds 127.0.0.1 on a free port
    url = server.base_url                              # http://127.0.0.1:<port>
    ...
    server.requests[0].json()                          # what the client sent
```

``handler(request)`` returns a ``Plan`` (status, headers, body and delivery knobs).
Connections are kept alive between requests like a real vendor's.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import trio

__all__ = [
    "FakeReply",
    "FakeServer",
    "FakeToolCall",
    "Plan",
    "RecordedRequest",
    "open_fake_server",
    "split_body",
]

_MAX_HEAD = 64 * 1024


@dataclass
class RecordedRequest:
    """One request as received; ``aborted`` turns True if the client left mid-response."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    aborted: bool = False
    completed: bool = False

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class Plan:
    """How to answer one request.

    ``split_at``: byte offsets where the body is cut into separately written pieces
    (``piece_delay`` seconds apart); ``chunked``: transfer-encoding chunked, one chunk per
    piece; ``cut_at``: close the connection after this many body bytes without finishing.
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    split_at: list[int] = field(default_factory=list)
    piece_delay: float = 0.0
    header_delay: float = 0.0
    cut_at: int | None = None


@dataclass
class FakeToolCall:
    """A tool call a fake model answers with."""

    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass
class FakeReply:
    """What a fake vendor answers to the next request: content plus fault knobs.

    Faults: ``status`` >= 400 answers an error body (``error_type``, ``error_message``,
    ``error_code``) with ``headers`` (e.g. ``retry-after``); ``cut_after_events`` ends a stream
    after that many events without its terminal event; ``error_after_events`` sends a vendor
    error event there; ``malformed`` sends a body (or event) that is not JSON.
    """

    text: str = "Hello from the fake model."
    tool_calls: list[FakeToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    input_tokens: int = 11
    output_tokens: int = 7
    model: str | None = None
    text_chunks: list[str] | None = None
    args_chunk: int = 5
    status: int = 200
    error_type: str | None = None
    error_code: str | None = None
    error_message: str = "fake failure"
    headers: dict[str, str] = field(default_factory=dict)
    header_delay: float = 0.0
    piece_delay: float = 0.0
    split_at: list[int] = field(default_factory=list)
    cut_after_events: int | None = None
    error_after_events: int | None = None
    malformed: bool = False

    def chunks(self) -> list[str]:
        """The text split into deltas (words with their trailing space, by default)."""
        if self.text_chunks is not None:
            return self.text_chunks
        words = self.text.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]] if self.text else []


class FakeVendor:
    """A fake vendor's state: queued ``replies`` (consumed in order) and received ``requests``."""

    def __init__(self) -> None:
        self.replies: deque[FakeReply] = deque()
        self.server: FakeServer | None = None
        self._ids = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far."""
        return [] if self.server is None else self.server.requests

    def next_id(self, prefix: str) -> str:
        """A fresh response id such as ``chatcmpl-fake0001``."""
        self._ids += 1
        return f"{prefix}{self._ids:04d}"


def split_body(body: bytes, positions: list[int]) -> list[bytes]:
    """``body`` cut at the given byte offsets (out-of-range and repeated ones ignored)."""
    cuts = sorted({p for p in positions if 0 < p < len(body)})
    pieces: list[bytes] = []
    start = 0
    for cut in [*cuts, len(body)]:
        pieces.append(body[start:cut])
        start = cut
    return [p for p in pieces if p]


Handler = Callable[[RecordedRequest], Awaitable[Plan]]


class FakeServer:
    """The running server: its address, the requests it got (unless ``record`` is False)
    and its connection counts."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self.record = True
        self.port = 0
        self.connections = 0
        self.closed_connections = 0
        self._changed = trio.Event()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds (checked on every server event); caller times out."""
        while not predicate():
            await self._changed.wait()

    async def serve(self, *, task_status: trio.TaskStatus[FakeServer]) -> None:
        """Listen on 127.0.0.1 port 0; ``nursery.start`` returns once the port is known."""
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self)
        await trio.serve_listeners(self._connection, listeners)

    async def _connection(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        buffer = bytearray()
        try:
            async with stream:
                while True:
                    request = await _read_request(stream, buffer)
                    if request is None:
                        return
                    if self.record:
                        self.requests.append(request)
                        self._notify()
                    plan = await self.handler(request)
                    if not await self._respond(stream, request, plan):
                        return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            self.closed_connections += 1
            self._notify()

    async def _respond(
        self, stream: trio.SocketStream, request: RecordedRequest, plan: Plan
    ) -> bool:
        """Write the response; False when the connection must close afterwards."""
        if plan.header_delay:
            await trio.sleep(plan.header_delay)
        body = plan.body if plan.cut_at is None else plan.body[: plan.cut_at]
        pieces = split_body(body, plan.split_at)
        try:
            await stream.send_all(_head(plan))
            for index, piece in enumerate(pieces):
                if index and plan.piece_delay:
                    await trio.sleep(plan.piece_delay)
                data = b"%x\r\n%s\r\n" % (len(piece), piece) if plan.chunked else piece
                await stream.send_all(data)
            if plan.cut_at is not None:
                return False
            if plan.chunked:
                await stream.send_all(b"0\r\n\r\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            request.aborted = True
            raise
        request.completed = True
        self._notify()
        return request.headers.get("connection", "").lower() != "close"


def _head(plan: Plan) -> bytes:
    reason = HTTPStatus(plan.status).phrase if plan.status in HTTPStatus._value2member_map_ else "X"
    lines = [f"HTTP/1.1 {plan.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in plan.headers]
    if plan.chunked:
        lines.append("transfer-encoding: chunked")
    else:
        lines.append(f"content-length: {len(plan.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(stream: trio.SocketStream, buffer: bytearray) -> RecordedRequest | None:
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_HEAD:
            raise trio.BrokenResourceError("request head too large")
        data = await stream.receive_some(65536)
        if not data:
            return None
        buffer += data
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[: end + 4]
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        data = await stream.receive_some(65536)
        if not data:
            return None
        buffer += data
    body = bytes(buffer[:length])
    del buffer[:length]
    return RecordedRequest(method, path, headers, body)


@asynccontextmanager
async def open_fake_server(handler: Handler) -> AsyncIterator[FakeServer]:
    """Run a ``FakeServer`` for the duration of the block (in its own nursery)."""
    server = FakeServer(handler)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()
