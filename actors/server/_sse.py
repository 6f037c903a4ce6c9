"""A streamed response that ends for every client, and stops its producer when the client
goes away.

Starlette's ``StreamingResponse`` keeps waiting for ``http.disconnect`` while it sends the
last (empty) body message; a server that reports a disconnect only when the client closes
(hypercorn does) never closes an HTTP/1.0 or ``Connection: close`` connection then, so
such a client waits forever after the final event. This response stops listening before
it sends the end of the body, so it ends on any ASGI server.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing

import trio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = ["EventStream"]


class EventStream(StreamingResponse):
    """Sends each chunk of ``chunks`` (already encoded) as soon as it is produced.

    A client that disconnects cancels the iteration, and the generator is closed (so an
    actor stream it holds is left, which cancels the producer). Otherwise the response
    ends with an empty final body message once ``chunks`` is exhausted.
    """

    def __init__(
        self, chunks: AsyncGenerator[bytes, None], media_type: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(chunks, media_type=media_type, headers=dict(headers))
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        gone = False
        async with aclosing(self.chunks) as chunks, trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal gone
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone = True
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            nursery.cancel_scope.cancel()
        if not gone:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
