"""The HTTP/1.1 server on raw sockets: keep-alive, pipelining, bad requests, failing apps,
streamed responses, disconnects, 100-continue, HEAD, WebSocket and a graceful stop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from actors.server import _http11
from actors.server._http11 import HttpServer, listen
from tests.actors.server.raw_http import raw_exchange, read_until_closed

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _reply(send: Send, body: bytes, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def echo(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answers the method, path, query and body it got."""
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    text = f"{scope['method']} {scope['path']} {scope['query_string'].decode()} ".encode()
    await _reply(send, text + body)


@asynccontextmanager
async def serving(
    app: Any, *, idle_timeout: float = 5.0, grace: float = 5.0
) -> AsyncIterator[tuple[str, int, trio.Event]]:
    shutdown = trio.Event()
    server = HttpServer(app, idle_timeout=idle_timeout, grace=grace)
    listener = await listen("127.0.0.1", 0, shared=False)
    host, port = listener.socket.getsockname()[:2]
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve, listener, shutdown)
        yield host, port, shutdown
        shutdown.set()


async def _exchange(port: int, request: bytes) -> bytes:
    return await raw_exchange("127.0.0.1", port, request)


async def test_requests_on_one_connection_are_answered_in_turn_also_when_pipelined() -> None:
    async with serving(echo) as (_, port, _):
        requests = (
            b"GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
            b"POST /b%20c HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        answer = await _exchange(port, requests)
    assert answer.count(b"HTTP/1.1 200") == 3
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in answer.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"GET /a x=1 ", b"POST /b c  hello", b"GET /last  "]
    assert b"content-length: 11" in answer.lower() and b"date: " in answer.lower()


async def test_an_http10_request_is_answered_and_the_connection_closed() -> None:
    async with serving(echo) as (_, port, _):
        answer = await _exchange(port, b"GET /old HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"GET /old  ")


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20_000, b"431"),  # no end in sight
        (b"GET / HTTP/1.1\r\n\r\n", b"400"),  # HTTP/1.1 without Host
    ],
    ids=["garbage", "head-too-big", "no-host"],
)
async def test_a_malformed_request_gets_a_4xx_and_the_connection_closes(
    request_: bytes, status: bytes
) -> None:
    async with serving(echo) as (_, port, _):
        answer = await _exchange(port, request_)
    assert answer.startswith(b"HTTP/1.1 " + status)


async def test_a_client_idle_past_the_timeout_is_closed_without_an_answer() -> None:
    async with serving(echo, idle_timeout=0.2) as (_, port, _):
        assert await _exchange(port, b"GET /ha") == b""


async def test_an_app_that_fails_before_answering_gives_a_500_and_the_error_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        raise RuntimeError("the app broke")

    with caplog.at_level(logging.ERROR, logger="actors.server.http"):
        async with serving(broken) as (_, port, _):
            answer = await _exchange(port, b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500") and answer.endswith(b"Internal Server Error")
    assert "GET /x failed" in caplog.text and "the app broke" in caplog.text


async def test_an_app_that_fails_mid_response_cuts_the_connection() -> None:
    async def half(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("mid-way")

    async with serving(half) as (_, port, _):
        answer = await _exchange(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in answer.lower()
    assert not answer.endswith(b"0\r\n\r\n")  # no final chunk: the client sees it cut


async def test_a_streamed_response_is_chunked_and_learns_when_the_client_leaves() -> None:
    left = trio.Event()

    async def stream(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()  # the (empty) body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        assert (await receive())["type"] == "http.disconnect"
        left.set()

    async with serving(stream) as (_, port, _):
        client = await trio.open_tcp_stream("127.0.0.1", port)
        await client.send_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        seen = b""
        with trio.fail_after(5):
            while b"first" not in seen:
                seen += await client.receive_some(1000)
        assert b"transfer-encoding: chunked" in seen.lower()
        await client.aclose()
        with trio.fail_after(5):
            await left.wait()


async def test_a_client_expecting_100_continue_gets_it_when_the_body_is_read() -> None:
    async with serving(echo) as (_, port, _):
        client = await trio.open_tcp_stream("127.0.0.1", port)
        async with client:
            head = b"PUT /u HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n"
            await client.send_all(head + b"Connection: close\r\n\r\n")
            with trio.fail_after(5):
                assert (await client.receive_some(100)).startswith(b"HTTP/1.1 100")
            await client.send_all(b"ok")
            assert (await read_until_closed(client)).endswith(b"PUT /u  ok")


async def test_a_head_request_gets_the_headers_without_the_body() -> None:
    async with serving(echo) as (_, port, _):
        answer = await _exchange(port, b"HEAD /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 9" in head.lower()
    assert body == b""


async def test_a_websocket_session_echoes_text_and_bytes_and_closes() -> None:
    async def sockets(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket" and scope["path"] == "/ws"
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (event := await receive())["type"] == "websocket.receive":
            if event.get("text") == "bye":
                await send({"type": "websocket.close", "code": 1000})
                return
            payload = {k: v for k, v in event.items() if k != "type"}
            await send({"type": "websocket.send", **payload})

    async with (
        serving(sockets) as (host, port, _),
        open_websocket_url(f"ws://{host}:{port}/ws") as socket,
    ):
        await socket.ping(b"are you there")  # returns once the pong came back
        await socket.send_message("hello")
        assert await socket.get_message() == "hello"
        await socket.send_message(b"\x00\x01")
        assert await socket.get_message() == b"\x00\x01"
        await socket.send_message("bye")
        with pytest.raises(ConnectionClosed) as closed:
            await socket.get_message()
        reason = closed.value.reason
        assert reason is not None and reason.code == 1000


async def test_a_websocket_the_app_refuses_gets_403() -> None:
    async def refuse(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 1008})

    request = (
        b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    async with serving(refuse) as (_, port, _):
        assert (await _exchange(port, request)).startswith(b"HTTP/1.1 403")


async def test_a_stop_lets_requests_in_flight_finish_and_closes_idle_connections() -> None:
    release = trio.Event()

    async def slow(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await release.wait()
        await _reply(send, b"done")

    async with serving(slow) as (_, port, shutdown):
        idle = await trio.open_tcp_stream("127.0.0.1", port)
        busy = await trio.open_tcp_stream("127.0.0.1", port)
        await busy.send_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await trio.sleep(0.05)
        shutdown.set()
        with trio.fail_after(5):
            assert await idle.receive_some(100) == b""  # closed at once
        release.set()
        answer = await read_until_closed(busy)
        assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
        with pytest.raises(OSError):
            await trio.open_tcp_stream("127.0.0.1", port)


async def test_a_request_still_running_when_the_grace_ends_is_cancelled() -> None:
    cancelled = trio.Event()

    async def forever(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    async with serving(forever, grace=0.2) as (_, port, shutdown):
        client = await trio.open_tcp_stream("127.0.0.1", port)
        await client.send_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await trio.sleep(0.05)
        shutdown.set()
        with trio.fail_after(5):
            await cancelled.wait()


async def test_an_app_sending_a_bad_header_gets_a_500_and_the_server_keeps_serving() -> None:
    async def bad(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["path"] == "/bad":
            headers = [(b"x-bad", b"a\nb")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with serving(bad) as (_, port, _):
        answer = await _exchange(port, b"GET /bad HTTP/1.1\r\nHost: t\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 500 Internal Server Error")
        empty = await _exchange(port, b"GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert empty.startswith(b"HTTP/1.1 204 No Content") and b"content-length" not in empty


async def test_a_websocket_message_over_the_limit_closes_the_socket_with_1009(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_http11, "MAX_MESSAGE", 1000)
    seen: list[dict[str, Any]] = []

    async def sockets(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while (event := await receive())["type"] == "websocket.receive":
            seen.append(event)
        seen.append(event)

    async with (
        serving(sockets) as (host, port, _),
        open_websocket_url(f"ws://{host}:{port}/ws") as socket,
    ):
        await socket.send_message("small")
        await socket.send_message("x" * 2000)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.get_message()
        reason = closed.value.reason
        assert reason is not None and reason.code == 1009
    assert [e.get("text") for e in seen[:1]] == ["small"]
    assert seen[-1] == {"type": "websocket.disconnect", "code": 1009}


async def test_a_body_is_received_whole_however_it_arrives() -> None:
    pieces: list[tuple[bytes, bool]] = []

    async def record(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            pieces.append((event["body"], event["more_body"]))
            if not event["more_body"]:
                break
        await _reply(send, b"".join(body for body, _ in pieces))

    async with serving(record) as (_, port, _):
        chunked = (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        client = await trio.open_tcp_stream("127.0.0.1", port)
        async with client:
            await client.send_all(chunked)  # every chunk at once
            with trio.fail_after(5):
                assert (await client.receive_some(1000)).endswith(b"abcde")
        assert pieces[-1][1] is False
        pieces.clear()
        late = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabc"
        client = await trio.open_tcp_stream("127.0.0.1", port)
        async with client:
            await client.send_all(late)
            await trio.sleep(0.05)
            await client.send_all(b"def")  # the rest comes later
            assert (await read_until_closed(client)).endswith(b"abcdef")
    assert pieces == [(b"abc", True), (b"def", False)]


async def test_a_client_that_stops_sending_its_body_counts_as_gone() -> None:
    seen: list[str] = []

    async def reader(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        seen.append((await receive())["type"])
        seen.append((await receive())["type"])

    async with serving(reader, idle_timeout=0.2) as (_, port, _):
        client = await trio.open_tcp_stream("127.0.0.1", port)
        async with client:
            await client.send_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            with trio.fail_after(5):
                while len(seen) < 2:
                    await trio.sleep(0.01)
    assert seen == ["http.request", "http.disconnect"]


async def test_a_websocket_handshake_without_a_key_gets_400() -> None:
    request = (
        b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    async with serving(echo) as (_, port, _):
        assert (await _exchange(port, request)).startswith(b"HTTP/1.1 400")
