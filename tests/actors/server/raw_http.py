"""Raw HTTP over a TCP socket, for tests of what a server does with exact bytes."""

from __future__ import annotations

import trio


async def read_until_closed(stream: trio.SocketStream) -> bytes:
    """Everything ``stream`` receives until the server closes it (a server that keeps it
    open fails after 10 seconds)."""
    received = bytearray()
    with trio.fail_after(10):
        while chunk := await stream.receive_some(65536):
            received += chunk
    return bytes(received)


async def raw_exchange(host: str, port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and read until the server closes it."""
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(request)
        return await read_until_closed(stream)
