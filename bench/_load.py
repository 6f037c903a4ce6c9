"""A minimal HTTP/1.1 load generator: one keep-alive connection per worker, raw Trio sockets.

A general client (httpx) spends more time per request than the servers under test do at
64 connections, so its latencies measure itself. This one only writes a prepared request
and reads one response (``Content-Length`` or chunked) per round trip.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import trio

__all__ = ["Connection", "Response"]


class Response:
    """A status code and a body."""

    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


class Connection:
    """One keep-alive HTTP/1.1 connection to ``url``'s host; ``post`` sends JSON bodies and
    reconnects when the server ended the previous response with ``Connection: close``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._host = parts.netloc
        self._stream: trio.SocketStream | None = None
        self._buffer = bytearray()

    @classmethod
    async def open(cls, url: str) -> Connection:
        """Connect to ``url`` (``http://host:port``)."""
        connection = cls(url)
        await connection._connect()
        return connection

    async def _connect(self) -> trio.SocketStream:
        self._stream = await trio.open_tcp_stream(*self._address)
        self._buffer.clear()
        return self._stream

    async def aclose(self) -> None:
        """Close the socket."""
        if self._stream is not None:
            await self._stream.aclose()
            self._stream = None

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[Response, float]:
        """POST ``body`` as JSON (with ``headers`` besides); the response and the seconds it
        took."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        start = time.perf_counter()
        stream = self._stream or await self._connect()
        await stream.send_all(head + body)
        response, close = await self._read_response()
        if close:  # the server ends keep-alive (e.g. after N requests): reconnect next time
            await self.aclose()
        return response, time.perf_counter() - start

    async def _fill(self) -> None:
        assert self._stream is not None
        data = await self._stream.receive_some(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._buffer += data

    async def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            await self._fill()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + len(marker)]
        return line

    async def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            await self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def _read_response(self) -> tuple[Response, bool]:
        head = (await self._read_until(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        close = headers.get("connection", "").lower() == "close"
        if "content-length" in headers:
            body = await self._read_exactly(int(headers["content-length"]))
            return Response(status, body), close
        chunks = bytearray()
        while size := int(await self._read_until(b"\r\n"), 16):
            chunks += await self._read_exactly(size)
            await self._read_until(b"\r\n")
        await self._read_until(b"\r\n")
        return Response(status, bytes(chunks)), close
