"""An HTTP/1.1 and WebSocket server for an ASGI app, on Trio: h11 and wsproto do the wire.

One task per connection runs its requests one after the other and calls the app inline: no
task, timer or cancel scope per request, and each response goes out in as few writes as
its messages allow (the head with the first body message). That is most of what a request
costs here beyond the app itself.

- Keep-alive as HTTP/1.1 and HTTP/1.0 say (h11 decides); a connection waiting for a request
  (or for the rest of its head) longer than ``idle_timeout`` is closed without an answer.
- ``receive`` streams the request body (a client that stops sending it for ``idle_timeout``
  counts as gone); once it is read, ``receive`` waits for the client to go away
  (``http.disconnect``), as a streamed response needs.
- A response without ``content-length`` that ends in its first body message gets one; one
  sent in pieces is chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).
- An app that fails before its response started answers 500 and the connection closes; one
  that fails after closes the connection. The failure is logged, never a client's problem.
- A malformed request gets 400 (431 for a head that is too big) and the connection closes.
- ``Upgrade: websocket`` requests run the app with a ``websocket`` scope over wsproto;
  pings are answered, and a message over ``MAX_MESSAGE`` bytes closes the socket (1009).
- ``serve`` stops on ``shutdown``: it stops accepting, closes idle connections, gives the
  requests in flight ``grace`` seconds, then cancels them.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import h11
import trio
import wsproto
import wsproto.events as ws
import wsproto.utilities

__all__ = ["HttpServer", "listen"]

log = logging.getLogger("actors.server.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
App = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

MAX_HEAD = 16 * 1024
"""The largest request head (and the most of an unread body skipped to keep a connection)."""
MAX_MESSAGE = 16 * 1024 * 1024
"""The largest WebSocket message taken; a bigger one closes the socket with 1009."""
READ_SIZE = 64 * 1024
_ASGI = {"version": "3.0", "spec_version": "2.3"}
_NO_BODY = frozenset({204, 304})
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}


async def listen(host: str, port: int, *, shared: bool) -> trio.SocketListener:
    """A listening TCP socket on ``host:port`` (port 0: a free one). ``shared`` binds with
    ``SO_REUSEPORT`` so several processes serve one port and the kernel spreads them.
    Raises ``OSError`` when the address cannot be bound (taken, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        await sock.bind((host, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)


def _address(listener: trio.SocketListener) -> str:
    host, port = listener.socket.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Clock:
    """The ``date`` header, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def now(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._value = formatdate(second, usegmt=True).encode()
        return self._value


class HttpServer:
    """Serves ``app`` on listening sockets until ``serve``'s ``shutdown`` event is set."""

    def __init__(self, app: App, *, idle_timeout: float, grace: float) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.grace = grace
        self.clock = _Clock()
        self.stopping = False
        self._idle: set[trio.CancelScope] = set()

    async def serve(
        self,
        listener: trio.SocketListener,
        shutdown: trio.Event,
        *,
        task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept connections on ``listener`` until ``shutdown`` is set, then stop as the
        module docstring says. Cancelled: every connection is cancelled at once."""
        try:
            async with trio.open_nursery() as connections:
                async with trio.open_nursery() as accepting:
                    accepting.start_soon(self._accept, listener, connections)
                    task_status.started(_address(listener))
                    await shutdown.wait()
                    accepting.cancel_scope.cancel()
                listener.socket.close()
                self.stopping = True
                for scope in list(self._idle):
                    scope.cancel()
                connections.cancel_scope.deadline = trio.current_time() + self.grace
        finally:
            listener.socket.close()  # also when cancelled: the port is free again

    async def _accept(self, listener: trio.SocketListener, connections: trio.Nursery) -> None:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:  # out of descriptors, say: keep serving the others
                log.warning("accepting a connection failed: %s", exc)
                await trio.sleep(0.01)
                continue
            connections.start_soon(self._connection, stream)

    async def _connection(self, stream: trio.SocketStream) -> None:
        """Serve one connection; whatever goes wrong with it ends it alone."""
        try:
            async with stream:
                await _Connection(self, stream).run()
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
            pass  # the client went away; nothing is owed to anyone
        except h11.RemoteProtocolError as exc:  # garbage after a request: the client's doing
            log.debug("closed a connection that broke HTTP: %s", exc)
        except Exception:
            log.exception("a connection failed and was closed")

    def idle(self, scope: trio.CancelScope, waiting: bool) -> None:
        """Track the scope of a connection while it waits for a request (closed on stop)."""
        if waiting:
            self._idle.add(scope)
        else:
            self._idle.discard(scope)


class _Connection:
    """One client connection: its requests in turn (see the module docstring)."""

    def __init__(self, server: HttpServer, stream: trio.SocketStream) -> None:
        self.server = server
        self.stream = stream
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        sock = stream.socket
        self.client = _peer(sock.getpeername())
        self.local = _peer(sock.getsockname())

    async def run(self) -> None:
        while not self.server.stopping:
            request = await self._next_request()
            if request is None:
                return
            if _is_websocket(request):
                await _WebSocket(self, request).run()
                return
            exchange = _Exchange(self, request)
            await exchange.run()
            if not exchange.reusable() or self.conn.our_state is not h11.DONE:
                return
            if not await self._finish_request_body():
                return
            self.conn.start_next_cycle()

    async def _next_request(self) -> h11.Request | None:
        """The next request's head, or None when the connection should close (the client
        closed it, sent garbage, or was idle too long)."""
        with trio.CancelScope(deadline=trio.current_time() + self.server.idle_timeout) as scope:
            self.server.idle(scope, True)
            try:
                while True:
                    event = await self.next_event()
                    if isinstance(event, h11.Request):
                        return event
                    if isinstance(event, h11.ConnectionClosed):
                        return None
            except h11.RemoteProtocolError as exc:
                await self.refuse(exc.error_status_hint)
                return None
            finally:
                self.server.idle(scope, False)
        return None  # idle for too long, or the server is stopping

    async def next_event(self) -> Any:
        """The next h11 event, reading from the socket as needed (EOF: ``ConnectionClosed``)."""
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.receive_some(READ_SIZE)
            self.conn.receive_data(data)  # b"" tells h11 the client closed its side

    async def _finish_request_body(self) -> bool:
        """Read what the app left of the request body so the next request can start; False
        (close instead) past ``MAX_HEAD`` bytes or ``idle_timeout`` seconds of it."""
        left = MAX_HEAD
        with trio.move_on_after(self.server.idle_timeout):
            while self.conn.their_state is h11.SEND_BODY and left > 0:
                event = await self.next_event()
                if isinstance(event, h11.ConnectionClosed):
                    return False
                if isinstance(event, h11.Data):
                    left -= len(event.data)
            return self.conn.their_state is h11.DONE
        return False

    async def refuse(self, status: int) -> None:
        """Answer a request that cannot be served with ``status`` and a short text (the
        connection closes after it)."""
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = b"%d %s\n" % (status, _REASONS.get(status, b"Error"))
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        try:
            reason = _REASONS.get(status, b"")
            refusal = h11.Response(status_code=status, headers=headers, reason=reason)
            out = self.conn.send(refusal)
            out += self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            return
        await self.stream.send_all(out)

    def scope(self, request: h11.Request, kind: str) -> Scope:
        """The ASGI scope of ``request``."""
        target = request.target
        raw_path, _, query = target.partition(b"?")
        return {
            "type": kind,
            "asgi": _ASGI,
            "http_version": request.http_version.decode(),
            "method": request.method.decode(),
            "scheme": "ws" if kind == "websocket" else "http",
            "path": unquote(raw_path.decode("ascii")),  # h11 lets only ASCII through
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": [(name.lower(), value) for name, value in request.headers],
            "client": self.client,
            "server": self.local,
        }


def _peer(address: Any) -> tuple[str, int] | None:
    return (address[0], address[1]) if isinstance(address, tuple) else None


def _is_websocket(request: h11.Request) -> bool:
    upgrade = connection = False
    for name, value in request.headers:
        if name == b"upgrade":
            upgrade = value.lower() == b"websocket"
        elif name == b"connection":
            connection = b"upgrade" in value.lower()
    return upgrade and connection


class _Exchange:
    """One HTTP request and its response, as the ASGI app sees them."""

    def __init__(self, connection: _Connection, request: h11.Request) -> None:
        self.connection = connection
        self.conn = connection.conn
        self.request = request
        self.head = request.method == b"HEAD"
        self.body_done = False
        self._peeked: Any = None  # a body event read ahead
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_sent = False
        self.finished = False
        self.broken = False
        self.gone = False
        self.done = trio.Event()
        self._reading = trio.Lock()

    async def run(self) -> None:
        scope = self.connection.scope(self.request, "http")
        try:
            await self.connection.server.app(scope, self.receive, self.send)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            await self._fail()
        else:
            if not self.finished:
                if self.status is None:
                    log.error("%s %s returned no response", scope["method"], scope["path"])
                await self._fail()
        finally:
            self.done.set()

    def reusable(self) -> bool:
        return self.finished and not self.broken and not self.gone

    async def _fail(self) -> None:
        """Answer 500 if nothing was sent yet; the connection closes either way."""
        if not self.head_sent and not self.broken:
            self.status = None
            body = b"Internal Server Error"
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
                (b"connection", b"close"),
            ]
            try:
                await self.send({"type": "http.response.start", "status": 500, "headers": headers})
                await self.send({"type": "http.response.body", "body": body})
            except h11.LocalProtocolError:
                pass  # h11 is past answering: closing is all that is left
        self.broken = True

    # -- receive ---------------------------------------------------------------------------
    async def receive(self) -> Message:
        """The next piece of the request body; once it is all read, ``http.disconnect`` when
        the client leaves or the response is over. Body pieces are read by one task at a
        time (as an app does); waiting for the disconnect, by any number of them."""
        if not self.body_done:
            return await self._body()
        async with self._reading:
            await self._until_gone()
        return {"type": "http.disconnect"}

    async def _body(self) -> Message:
        if self.conn.they_are_waiting_for_100_continue and not self.head_sent:
            await self._write(
                self.conn.send(h11.InformationalResponse(status_code=100, headers=[]))
            )
        event, self._peeked = self._peeked, None
        if event is None:
            event = await self._event()
        if isinstance(event, h11.Data):
            # what already arrived decides whether this piece is the last (most bodies
            # come whole, so the app needs one call, not two)
            following = self._buffered_event()
            if isinstance(following, h11.EndOfMessage):
                self.body_done = True
                return {"type": "http.request", "body": bytes(event.data), "more_body": False}
            self._peeked = following
            return {"type": "http.request", "body": bytes(event.data), "more_body": True}
        self.body_done = True
        if isinstance(event, h11.EndOfMessage):
            return {"type": "http.request", "body": b"", "more_body": False}
        self.gone = True
        return {"type": "http.disconnect"}

    async def _event(self) -> Any:
        """The next body event; a client silent for ``idle_timeout`` counts as gone."""
        with trio.move_on_after(self.connection.server.idle_timeout):
            try:
                return await self.connection.next_event()
            except h11.RemoteProtocolError:
                return h11.ConnectionClosed()
        return h11.ConnectionClosed()

    def _buffered_event(self) -> Any:
        """The next event if it already arrived, else None."""
        try:
            event = self.conn.next_event()
        except h11.RemoteProtocolError:
            return h11.ConnectionClosed()
        return None if event is h11.NEED_DATA else event

    async def _until_gone(self) -> None:
        """Wait until the client closes the connection or the response is over. A pipelined
        request is left for h11 to hold, unread."""
        if self.gone:
            return
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                while True:
                    data = await self.connection.stream.receive_some(READ_SIZE)
                    if not data:
                        self.gone = True
                        break
                    self.conn.receive_data(data)  # the next request: h11 keeps it
                    break
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            await self.done.wait()
            nursery.cancel_scope.cancel()
        if not self.gone:  # the watch saw a pipelined request: the response decides
            await self.done.wait()

    # -- send ------------------------------------------------------------------------------
    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("the response has already started")
            self.status = int(message["status"])
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if self.status is None:
            raise RuntimeError("the response body came before its start")
        if self.finished or self.broken:
            return
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        out = b"" if self.head_sent else self._head(self.status, body, more)
        self.head_sent = True
        if body and not self.head:
            out += self.conn.send(h11.Data(data=body))
        if not more:
            out += self.conn.send(h11.EndOfMessage())
            self.finished = True
        if out:
            await self._write(out)
        if self.finished:
            self.done.set()

    def _head(self, status: int, body: bytes, more: bool) -> bytes:
        headers = self.headers
        names = {name.lower() for name, _ in headers}
        framed = b"content-length" in names or b"transfer-encoding" in names
        if not more and not framed and status not in _NO_BODY:
            headers = [*headers, (b"content-length", b"%d" % len(body))]
        if b"date" not in names:
            headers = [*headers, (b"date", self.connection.server.clock.now())]
        if self.connection.server.stopping and b"connection" not in names:
            headers = [*headers, (b"connection", b"close")]
        reason = _REASONS.get(status, b"")
        return self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason))

    async def _write(self, data: bytes) -> None:
        try:
            await self.connection.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
            self.broken = self.gone = True


class _WebSocket:
    """An ASGI ``websocket`` session over wsproto on an upgraded connection."""

    def __init__(self, connection: _Connection, request: h11.Request) -> None:
        self.connection = connection
        self.stream = connection.stream
        self.request = request
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        self._sending = trio.Lock()  # a pong may go out while the app sends
        self._size = 0
        self.accepted = False
        self.closed = False
        self._pending: list[Message] = [{"type": "websocket.connect"}]
        self._text: list[str] = []
        self._bytes: list[bytes] = []

    async def run(self) -> None:
        headers = [(n, v) for n, v in self.request.headers]
        try:
            self.ws.initiate_upgrade_connection(headers, self.request.target)
        except wsproto.utilities.RemoteProtocolError:  # no key, a wrong version...
            await self.connection.refuse(400)
            return
        trailing, _ = self.connection.conn.trailing_data
        if trailing:
            self.ws.receive_data(bytes(trailing))
        for event in self.ws.events():  # the upgrade request itself
            if not isinstance(event, ws.Request):
                return
        scope = self.connection.scope(self.request, "websocket")
        scope["subprotocols"] = _subprotocols(self.request)
        try:
            await self.connection.server.app(scope, self.receive, self.send)
        except Exception:
            log.exception("WebSocket %s failed", scope["path"])
            if not self.accepted:
                await self._reject(500)
            else:
                await self._close(1011, "")
            return
        if not self.closed:
            await (self._close(1000, "") if self.accepted else self._reject(403))

    async def receive(self) -> Message:
        while not self._pending:
            if self.closed:
                return {"type": "websocket.disconnect", "code": 1006}
            await self._read()
        return self._pending.pop(0)

    async def _read(self) -> None:
        data = await self.stream.receive_some(READ_SIZE)
        if not data:
            self.closed = True
            self._pending.append({"type": "websocket.disconnect", "code": 1006})
            return
        self.ws.receive_data(data)
        for event in self.ws.events():
            await self._handle(event)

    async def _handle(self, event: ws.Event) -> None:
        if isinstance(event, (ws.TextMessage, ws.BytesMessage)):
            self._size += len(event.data)
            if self._size > MAX_MESSAGE:
                await self._close(1009, "message too big")
                self._pending.append({"type": "websocket.disconnect", "code": 1009})
                return
            if event.message_finished:
                self._size = 0
        if isinstance(event, ws.TextMessage):
            self._text.append(event.data)
            if event.message_finished:
                text, self._text = "".join(self._text), []
                self._pending.append({"type": "websocket.receive", "text": text})
        elif isinstance(event, ws.BytesMessage):
            self._bytes.append(bytes(event.data))
            if event.message_finished:
                data, self._bytes = b"".join(self._bytes), []
                self._pending.append({"type": "websocket.receive", "bytes": data})
        elif isinstance(event, ws.Ping):
            await self._write(self.ws.send(event.response()))
        elif isinstance(event, ws.CloseConnection):
            if self.ws.state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                await self._write(self.ws.send(event.response()))
            self.closed = True
            self._pending.append({"type": "websocket.disconnect", "code": event.code})

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self.closed:
            return
        if kind == "websocket.accept":
            extra = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            accept = ws.AcceptConnection(
                subprotocol=message.get("subprotocol"), extra_headers=extra
            )
            self.accepted = True
            await self._write(self.ws.send(accept))
        elif kind == "websocket.send":
            if message.get("text") is not None:
                await self._write(self.ws.send(ws.Message(data=message["text"])))
            else:
                await self._write(self.ws.send(ws.Message(data=bytes(message["bytes"]))))
        elif kind == "websocket.close":
            if self.accepted:
                await self._close(int(message.get("code", 1000)), message.get("reason") or "")
            else:
                await self._reject(403)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    async def _close(self, code: int, reason: str) -> None:
        self.closed = True
        if self.ws.state is wsproto.connection.ConnectionState.OPEN:
            await self._write(self.ws.send(ws.CloseConnection(code=code, reason=reason)))

    async def _reject(self, status: int) -> None:
        self.closed = True
        headers = [(b"content-length", b"0"), (b"connection", b"close")]
        await self._write(
            self.ws.send(ws.RejectConnection(status_code=status, headers=headers, has_body=False))
        )

    async def _write(self, data: bytes) -> None:
        try:
            async with self._sending:
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
            self.closed = True


def _subprotocols(request: h11.Request) -> list[str]:
    found: list[str] = []
    for name, value in request.headers:
        if name == b"sec-websocket-protocol":
            found += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
    return found
