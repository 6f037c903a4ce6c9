"""The HTTP layer shared by the vendor clients: one pooled ``httpx.AsyncClient``, requests
that raise typed ``ProviderError`` values, and streamed bodies that close their connection.

httpx exceptions never leave this module: connect/read/write/pool timeouts become
``ProviderTimeout``, other transport errors ``UnavailableError`` (before a reply) or
``StreamInterrupted`` (while reading a streamed body), HTTP error statuses whatever the
vendor's ``ErrorMapper`` says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import httpx

from actors.llm._config import Timeouts
from actors.llm._errors import ProviderError, ProviderTimeout, StreamInterrupted, UnavailableError

__all__ = ["ErrorMapper", "HttpTransport", "make_http_client"]

ErrorMapper = Callable[[int, Mapping[str, str], bytes], ProviderError]
"""Builds the typed error for an HTTP error reply: ``(status, headers, body)``."""


def make_http_client(timeouts: Timeouts, max_connections: int) -> httpx.AsyncClient:
    """A pooled client with the connect/read timeouts of ``timeouts`` (keep-alive on)."""
    timeout = httpx.Timeout(
        connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.connect
    )
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)


class HttpTransport:
    """Posts JSON bodies for one vendor through a shared client and maps every failure."""

    __slots__ = ("_client", "_map_error", "provider")

    def __init__(self, client: httpx.AsyncClient, provider: str, map_error: ErrorMapper) -> None:
        self._client = client
        self.provider = provider
        self._map_error = map_error

    def transport_error(self, exc: httpx.TransportError, *, reading: bool) -> ProviderError:
        """The typed error for an httpx transport failure before or while reading a reply."""
        if isinstance(exc, httpx.TimeoutException):
            what = "reading the reply" if reading else "waiting for the vendor"
            return ProviderTimeout(
                f"timed out {what}: {type(exc).__name__}", provider=self.provider
            )
        if reading:
            return StreamInterrupted(
                f"the connection broke while reading the reply: {exc}", provider=self.provider
            )
        return UnavailableError(f"cannot reach the vendor: {exc!r}", provider=self.provider)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        """POST ``body`` and return the reply body of a 2xx answer.

        Cancellation: the request is abandoned and its connection closed.
        Failure: ``ProviderError`` (typed by status, transport failure or timeout).
        """
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, reading=False) from exc
        if response.status_code >= 400:
            raise self._map_error(response.status_code, response.headers, response.content)
        return response.content

    @asynccontextmanager
    async def stream(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST ``body`` and yield the reply body's byte pieces as they arrive.

        Leaving the block (normally, by error or by cancellation) closes the response; a
        body not read to its end closes the connection instead of returning it to the pool.
        Failure: ``ProviderError`` for an error status before the body, ``StreamInterrupted``
        or ``ProviderTimeout`` while reading it.
        """
        request = self._client.build_request("POST", url, content=body, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, reading=False) from exc
        try:
            if response.status_code >= 400:
                try:
                    content = await response.aread()
                except httpx.TransportError as exc:
                    raise self.transport_error(exc, reading=True) from exc
                raise self._map_error(response.status_code, response.headers, content)
            yield _Pieces(self, response)
        finally:
            await response.aclose()


class _Pieces:
    """The byte pieces of a streamed body, with transport errors mapped (not a generator,
    so an abandoned iteration leaves nothing to finalize)."""

    __slots__ = ("_iterator", "_transport")

    def __init__(self, transport: HttpTransport, response: httpx.Response) -> None:
        self._transport = transport
        self._iterator = response.aiter_bytes()

    def __aiter__(self) -> _Pieces:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await anext(self._iterator)
        except httpx.TransportError as exc:
            raise self._transport.transport_error(exc, reading=True) from exc
