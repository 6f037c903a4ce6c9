"""Open one MCP connection with the official SDK's ``Client``: a stdio subprocess, or
streamable HTTP with a fallback to HTTP+SSE, and notice when the server goes away."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TextIO, cast

import httpx2
import trio
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from actors.mcp.config import McpConnection

__all__ = ["Connection", "McpConnectError", "open_connection"]

log = logging.getLogger(__name__)

TransportStreams = tuple[Any, Any]
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
"""The SDK's defaults: a response stream may stay open for minutes."""


class McpConnectError(Exception):
    """The server could not be reached or did not complete the MCP handshake."""


class _WatchedReadStream:
    """The transport's read stream; sets ``ended`` when the server closes it (a stdio
    server's process exited, an SSE stream ended)."""

    def __init__(self, inner: Any, ended: trio.Event) -> None:
        self._inner = inner
        self._ended = ended

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            item: SessionMessage | Exception = await self._inner.receive()
        except Exception:
            self._ended.set()
            raise
        return item

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            item: SessionMessage | Exception = await self._inner.__anext__()
        except StopAsyncIteration:
            self._ended.set()
            raise
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        result: bool | None = await self._inner.__aexit__(exc_type, exc_val, exc_tb)
        return result


class _Watched:
    """An SDK transport whose read stream reports its end through ``ended``."""

    def __init__(self, inner: AbstractAsyncContextManager[TransportStreams]) -> None:
        self.inner = inner
        self.ended = trio.Event()

    async def __aenter__(self) -> TransportStreams:
        read, write = await self.inner.__aenter__()
        return _WatchedReadStream(read, self.ended), write

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        return await self.inner.__aexit__(exc_type, exc_val, exc_tb)


@dataclass(frozen=True, slots=True)
class Connection:
    """A connected SDK ``Client`` and the event set when the server went away."""

    client: Client
    ended: trio.Event
    transport: str


def _stderr(config: McpConnection) -> TextIO:
    if config.stderr == "discard":
        return cast(TextIO, subprocess.DEVNULL)  # the SDK hands it to the process as is
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (captured output)
        return sys.__stderr__ or sys.stderr
    return sys.stderr


def _transports(config: McpConnection) -> list[tuple[str, _Watched]]:
    """The transports to try, in order."""
    if config.command is not None:
        params = StdioServerParameters(
            command=config.command, args=config.args, env=config.env or None, cwd=config.cwd
        )
        return [("stdio", _Watched(stdio_client(params, errlog=_stderr(config))))]
    assert config.url is not None
    tried: list[tuple[str, _Watched]] = []
    if config.transport in ("auto", "streamable-http"):
        http = httpx2.AsyncClient(headers=config.headers, timeout=_HTTP_TIMEOUT)
        tried.append(("streamable-http", _Watched(_owning(http, config.url))))
    if config.transport in ("auto", "sse"):
        tried.append(("sse", _Watched(sse_client(config.url, headers=config.headers or None))))
    return tried


@asynccontextmanager
async def _owning(http: httpx2.AsyncClient, url: str) -> AsyncIterator[TransportStreams]:
    """Streamable HTTP over ``http``, closed with the transport."""
    async with http, streamable_http_client(url, http_client=http) as streams:
        yield streams


@asynccontextmanager
async def open_connection(config: McpConnection, name: str) -> AsyncIterator[Connection]:
    """Connect to the server and complete the handshake; closes the connection (and stops a
    stdio server's process, as the SDK does: stdin closed, then SIGTERM, then SIGKILL) on exit.

    Raises ``McpConnectError`` naming the server when no transport connects. Cancellation
    during the handshake closes what was opened.
    """
    failures: list[str] = []
    for kind, transport in _transports(config):
        client = Client(transport)
        try:
            await client.__aenter__()
        except Exception as exc:  # the next transport, or the error below
            failures.append(f"{kind}: {_describe(exc)}")
            log.debug("MCP server %r: %s transport failed", name, kind, exc_info=True)
            continue
        try:
            yield Connection(client=client, ended=transport.ended, transport=kind)
        finally:
            with trio.CancelScope(shield=True):  # the SDK bounds its own shutdown
                await client.__aexit__(None, None, None)
        return
    raise McpConnectError(
        f"MCP server {name!r} ({config.label}) could not be connected: {'; '.join(failures)}"
    )


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
