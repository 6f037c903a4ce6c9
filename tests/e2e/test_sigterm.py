"""SIGTERM while requests are in flight: nothing acknowledged is lost, nothing half-written.

The real server process runs on file-backed SQLite. Concurrent writes of every kind go in,
SIGTERM arrives while slow streams are mid-answer; the process must stop accepting, let the
in-flight requests finish, exit 0, and a restarted server on the same data must hold every
record whose request got a 2xx answer, and only whole records of the others.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.e2e.serve import STORES_TOML, Served, open_served

CONFIG = (
    """
[runtime.supervision]
grace = 8.0

[telemetry]
enabled = false

[logging]
level = "INFO"

"""
    + STORES_TOML
    + """

[[actors]]
name = "scripted"
kind = "provider"
factory = "actors.llm:configured_provider"
options = {{ type = "scripted", builtin = "echo", chunk_delay = 0.03 }}

[[actors]]
name = "hash"
kind = "provider"
factory = "actors.llm:configured_provider"
options = {{ type = "hash", dimension = 32 }}

[[actors]]
name = "add"
factory = "actors.demo.agent:add"

[[actors]]
name = "echo"
kind = "agent"
factory = "actors.demo.agent:echo"

[[actors]]
name = "approval"
kind = "workflow"
factory = "actors.demo.workflows:approval_app"

[[actors]]
name = "server"
factory = "actors.server:Server"
options = {{ host = "127.0.0.1", port = 0, grace = {grace} }}
"""
)

KINDS = ("thread", "generate", "workflow", "vector")
STREAM_WORDS = " ".join(f"w{i}" for i in range(40))  # about 1.2 s of chunks
DIMENSION = 4
WRITES = 60
ACKED_BEFORE_SIGTERM = 12


@dataclass
class Outcomes:
    """What each request got (see ``_classify``) and how the slow streams ended."""

    writes: dict[tuple[str, int], str] = field(default_factory=dict)
    streams: dict[int, str] = field(default_factory=dict)
    streaming: int = 0
    acked: trio.Event = field(default_factory=trio.Event)
    closed_to_new: bool = False


def _request(kind: str, i: int) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any]
    match kind:
        case "thread":
            body = {"resourceId": "r", "threadId": f"t-{i}", "title": f"title {i}"}
            return "/api/memory/threads?agentId=echo", body
        case "generate":
            memory = {"thread": f"g-{i}", "resource": "r"}
            return "/api/agents/echo/generate", {"messages": f"hello {i}", "memory": memory}
        case "workflow":
            body = {"inputData": {"item": f"item-{i}"}}
            return f"/api/workflows/approval/start-async?runId=w-{i}", body
        case _:
            vector = [float(i + 1), 1.0, 0.0, 0.0]
            body = {"indexName": "docs", "ids": [f"v-{i}"], "vectors": [vector]}
            body["metadata"] = [{"i": i}]
            return "/api/vector/default/upsert", body


def _classify(exc: Exception | None, response: httpx.Response | None) -> str:
    """``ok``, ``refused`` (no connection), ``closed`` (closed without an answer),
    ``unavailable`` (503); anything else names what went wrong."""
    match exc, response:
        case httpx.ConnectError(), _:
            return "refused"
        case httpx.TimeoutException(), _:
            return "timeout"
        case ((httpx.RemoteProtocolError() | httpx.ReadError()), _):
            return "closed"
        case None, httpx.Response(status_code=503):
            return "unavailable"
        case None, httpx.Response() if response.is_success:
            return "ok"
    return f"{exc!r} {response}"


async def _write(http: httpx.AsyncClient, kind: str, i: int, out: Outcomes) -> None:
    path, body = _request(kind, i)
    response: httpx.Response | None = None
    error: Exception | None = None
    try:
        response = await http.post(path, json=body)
        response.json()
    except (httpx.HTTPError, ValueError) as exc:
        error = exc
    out.writes[kind, i] = _classify(error, response)
    if sum(o == "ok" for o in out.writes.values()) == ACKED_BEFORE_SIGTERM:
        out.acked.set()


async def _stream(http: httpx.AsyncClient, i: int, out: Outcomes, started: trio.Event) -> None:
    memory = {"thread": f"s-{i}", "resource": "r"}
    body = {"messages": STREAM_WORDS, "memory": memory}
    records: list[str] = []
    try:
        async with http.stream("POST", "/api/agents/echo/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    records.append(line.removeprefix("data: "))
                    if len(records) == 1:
                        out.streaming += 1
                        if out.streaming == 3:
                            started.set()
    except httpx.HTTPError:
        out.streams[i] = "error"
        return
    finished = len(records) > 1 and json.loads(records[-2])["type"] == "finish"
    out.streams[i] = "ok" if records[-1:] == ["[DONE]"] and finished else "error"


async def _probe_new_connections(http: httpx.AsyncClient, out: Outcomes) -> None:
    """Fresh connections after SIGTERM: until one is refused or answered 503."""
    while True:
        try:
            response = await http.get("/health")
        except httpx.HTTPError:
            break
        if response.status_code == 503:
            break
        await trio.sleep(0.01)
    out.closed_to_new = len(out.streams) < 3  # the three streams were still running


async def _load_then_sigterm(served: Served) -> Outcomes:
    out = Outcomes()
    fresh = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    client = httpx.AsyncClient(base_url=served.url, limits=fresh, timeout=15)
    probe = httpx.AsyncClient(base_url=served.url, limits=fresh, timeout=5)
    async with client as http, probe:
        index = {"indexName": "docs", "dimension": DIMENSION, "metric": "cosine"}
        assert (await http.post("/api/vector/default/create-index", json=index)).is_success
        started = trio.Event()
        async with trio.open_nursery() as nursery:
            for i in range(3):
                nursery.start_soon(_stream, http, i, out, started)
            with trio.fail_after(10):
                await started.wait()
            for i in range(WRITES):
                if i == WRITES // 2:  # half the writes go out after SIGTERM
                    with trio.fail_after(10):
                        await out.acked.wait()
                    served.process.send_signal(signal.SIGTERM)
                    nursery.start_soon(_probe_new_connections, probe, out)
                nursery.start_soon(_write, http, KINDS[i % len(KINDS)], i, out)
                await trio.sleep(0.01)
    return out


async def _thread_messages(http: httpx.AsyncClient, thread: str) -> list[dict[str, Any]] | None:
    response = await http.get(f"/api/memory/threads/{thread}/messages?agentId=echo")
    if response.status_code == 404:
        return None
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def _texts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]["content"]) for m in messages]


async def _check_write(http: httpx.AsyncClient, kind: str, i: int, acked: bool) -> None:
    if kind == "thread":
        got = await http.get(f"/api/memory/threads/t-{i}?agentId=echo")
        assert got.status_code == (200 if acked else got.status_code)
        if got.status_code == 200:
            assert got.json()["title"] == f"title {i}"
    elif kind == "generate":
        messages = await _thread_messages(http, f"g-{i}")
        assert messages is not None or not acked
        if messages is not None:
            assert _texts(messages) == [("user", f"hello {i}"), ("assistant", f"Echo: hello {i}")]
    elif kind == "workflow":
        got = await http.get(f"/api/workflows/approval/runs/w-{i}")
        assert got.status_code == (200 if acked else got.status_code)
        if got.status_code == 200:
            run = got.json()
            assert run["status"] == "suspended", run
            assert run["steps"]["request-approval"]["suspendPayload"]["item"] == f"item-{i}"


async def _check_vectors(http: httpx.AsyncClient, acked: set[int], sent: set[int]) -> None:
    query = {"indexName": "docs", "queryVector": [1.0, 1.0, 0.0, 0.0], "topK": 100}
    hits = (await http.post("/api/vector/default/query", json=query)).json()
    stored = {int(h["id"].removeprefix("v-")): h["metadata"] for h in hits}
    assert acked <= set(stored) <= sent
    assert all(meta == {"i": i} for i, meta in stored.items())


async def _check_durable(served: Served, out: Outcomes) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        for (kind, i), outcome in out.writes.items():
            if kind != "vector":
                await _check_write(http, kind, i, outcome == "ok")
        vectors = {i for (kind, i) in out.writes if kind == "vector"}
        acked = {i for (kind, i), o in out.writes.items() if kind == "vector" and o == "ok"}
        await _check_vectors(http, acked, vectors)
        for i in out.streams:
            messages = await _thread_messages(http, f"s-{i}")
            assert messages is not None
            assert _texts(messages) == [
                ("user", STREAM_WORDS),
                ("assistant", f"Echo: {STREAM_WORDS}"),
            ]


async def test_sigterm_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "app.toml"
    config.write_text(CONFIG.format(data=data.as_posix(), grace=6.0))
    async with open_served(config, tmp_path) as served:
        out = await _load_then_sigterm(served)
        with trio.fail_after(10):
            code = await served.process.wait()
        assert code == 0, served.text()
    assert out.streams == {0: "ok", 1: "ok", 2: "ok"}, served.text()
    assert out.closed_to_new
    assert len(out.writes) == WRITES
    assert {kind for (kind, _), o in out.writes.items() if o == "ok"} == set(KINDS)
    assert set(out.writes.values()) - {"ok"} <= {"refused", "closed", "unavailable"}
    assert "ok" in out.writes.values() and set(out.writes.values()) != {"ok"}
    async with open_served(config, tmp_path) as again:
        await _check_durable(again, out)
        again.process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await again.process.wait() == 0


LONG_WORDS = " ".join(f"w{i}" for i in range(200))  # about 6 s of chunks


async def _stream_until_cut(served: Served, started: trio.Event) -> list[str]:
    body = {"messages": LONG_WORDS, "memory": {"thread": "long", "resource": "r"}}
    records: list[str] = []
    async with httpx.AsyncClient(base_url=served.url, timeout=15) as http:
        try:
            async with http.stream("POST", "/api/agents/echo/stream", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        records.append(line.removeprefix("data: "))
                        started.set()
        except httpx.HTTPError:
            pass  # cut off: the connection closed before the answer ended
    return records


async def test_requests_longer_than_the_grace_period_are_cut_and_stored_whole(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "app.toml"
    config.write_text(CONFIG.format(data=data.as_posix(), grace=0.5))
    records: list[str] = []
    async with open_served(config, tmp_path) as served:
        started = trio.Event()
        async with trio.open_nursery() as nursery:

            async def stream() -> None:
                records.extend(await _stream_until_cut(served, started))

            nursery.start_soon(stream)
            with trio.fail_after(10):
                await started.wait()
            served.process.send_signal(signal.SIGTERM)
            signalled = trio.current_time()
            with trio.fail_after(10):
                code = await served.process.wait()
            stopped_after = trio.current_time() - signalled
        assert code == 0, served.text()
    assert stopped_after < 3.0  # grace 0.5 s, not the 6 s the answer needs
    assert "[DONE]" not in records
    async with (
        open_served(config, tmp_path) as again,
        httpx.AsyncClient(base_url=again.url) as http,
    ):
        messages = await _thread_messages(http, "long")
        assert messages is not None
        texts = _texts(messages)
        assert texts[0] == ("user", LONG_WORDS)
        assert texts[1][0] == "assistant" and len(texts) == 2
        assert f"Echo: {LONG_WORDS}".startswith(texts[1][1])
        assert len(texts[1][1]) < len(f"Echo: {LONG_WORDS}")
        again.process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await again.process.wait() == 0
