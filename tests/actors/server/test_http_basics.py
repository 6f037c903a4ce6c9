from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.server import TokenConfig
from tests.actors.server.conftest import OpenServer

WIRE = Path(__file__).resolve().parents[2] / "fixtures" / "mastra-wire"  # captured from Mastra


def _captured_body(name: str) -> Any:
    text = (WIRE / name).read_text(encoding="utf-8")
    return json.loads(text.split("\n<\n", 1)[1])


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"success": True}


async def test_tools_list_matches_mastra_capture(client: httpx.AsyncClient) -> None:
    got = (await client.get("/api/tools")).json()
    expected = _captured_body("tools-list.txt")
    assert got.keys() == expected.keys()
    for key in ("id", "description", "requireApproval"):
        assert got["add"][key] == expected["add"][key]
    assert json.loads(got["add"]["inputSchema"]) == json.loads(expected["add"]["inputSchema"])
    out, expected_out = (
        json.loads(got["add"]["outputSchema"]),
        json.loads(expected["add"]["outputSchema"]),
    )
    out["json"].pop("description", None)
    assert out == expected_out
    one = (await client.get("/api/tools/add")).json()
    assert one == got["add"]


async def test_tool_execute_and_validation_error_match_captures(client: httpx.AsyncClient) -> None:
    ok = await client.post("/api/tools/add/execute", json={"data": {"a": 2, "b": 3}})
    assert ok.status_code == 200 and ok.json() == {"sum": 5}
    bad = await client.post("/api/tools/add/execute", json={"data": {"a": "x"}})
    assert bad.status_code == 200
    assert bad.json() == _captured_body("tool-execute-invalid.txt")


async def test_unknown_names_and_routes_give_404(client: httpx.AsyncClient) -> None:
    tool = await client.post("/api/tools/nope/execute", json={"data": {}})
    assert (tool.status_code, tool.json()) == (404, {"error": "Tool not found"})
    route = await client.get("/api/nope")
    assert (route.status_code, route.text) == (404, "404 Not Found")


async def test_malformed_json_gives_400_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tools/add/execute", content=b"{bad json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid request body"
    assert body["issues"][0]["field"] == "body"


async def test_wrong_field_type_gives_400_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tools/add/execute", json={"data": {}, "requestContext": 5})
    assert response.status_code == 400
    assert response.json()["issues"][0]["field"] == "requestContext"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


bodies = st.binary(max_size=40) | json_values.map(lambda v: json.dumps(v).encode())


@settings(max_examples=3, deadline=None)
@given(batch=st.lists(bodies, min_size=40, max_size=40))
async def test_arbitrary_bodies_never_give_5xx(batch: list[bytes]) -> None:
    from tests.actors.server.conftest import _open_server

    async with _open_server() as (_, client):
        for body in batch:
            for path in ("/api/tools/add/execute", "/api/tools/nope/execute"):
                response = await client.post(path, content=body)
                assert response.status_code in (200, 400, 404), response.text
                if response.status_code == 400:
                    assert response.json()["error"] == "Invalid request body"


async def test_bearer_tokens(open_server: OpenServer) -> None:
    tokens = [TokenConfig(token="all"), TokenConfig(token="only-echo", agents=["echo"])]
    async with open_server(tokens=tokens) as (_, client):
        assert (await client.get("/health")).status_code == 200  # outside /api
        assert (await client.get("/api/tools")).status_code == 401
        wrong = await client.get("/api/tools", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/api/tools", headers={"Authorization": "Bearer all"})
        assert ok.status_code == 200
        other = await client.get(
            "/api/agents/helper", headers={"Authorization": "Bearer only-echo"}
        )
        assert other.status_code == 403
        allowed = await client.get(
            "/api/agents/echo", headers={"Authorization": "Bearer only-echo"}
        )
        assert allowed.status_code == 404  # allowed through auth; no such agent route yet


async def test_body_limit_and_cors(open_server: OpenServer) -> None:
    async with open_server(body_limit=100, cors_origins=["http://app.example"]) as (_, client):
        big = await client.post("/api/tools/add/execute", content=b"x" * 500)
        assert big.status_code == 413
        # no Content-Length: the body is counted as it comes
        host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            head = b"POST /api/tools/add/execute HTTP/1.1\r\nHost: t\r\n"
            await stream.send_all(head + b"Transfer-Encoding: chunked\r\n\r\n")
            await stream.send_all(b"3c\r\n" + b"x" * 60 + b"\r\n" * 1)
            await stream.send_all(b"3c\r\n" + b"x" * 60 + b"\r\n0\r\n\r\n")
            with trio.fail_after(5):
                answer = await stream.receive_some(4096)
        assert answer.startswith(b"HTTP/1.1 413")
        preflight = await client.options(
            "/api/tools",
            headers={"Origin": "http://app.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "http://app.example"
        plain = await client.get("/api/tools", headers={"Origin": "http://app.example"})
        assert plain.headers["access-control-allow-origin"] == "http://app.example"


async def test_openapi_lists_the_routes(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert "post" in doc["paths"]["/api/tools/{tool_id}/execute"]
    assert "get" in doc["paths"]["/health"]


async def test_request_span_is_the_parent_of_actor_spans(open_server: OpenServer) -> None:
    async with open_server() as (t, client):
        await client.post("/api/tools/add/execute", json={"data": {"a": 1, "b": 2}})
        await trio.sleep(0.05)
        spans = {s.name: s for s in t.spans.finished()}
        server_span = spans["POST /api/tools/add/execute"]
        tool_span = spans["add ExecuteTool"]
        assert tool_span.context is not None and server_span.context is not None
        assert tool_span.context.trace_id == server_span.context.trace_id
        assert tool_span.parent is not None
        assert tool_span.parent.span_id == server_span.context.span_id


@pytest.mark.parametrize("path", ["/api/tools/add", "/health"])
async def test_head_and_get(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200


async def test_a_client_gone_before_its_body_is_no_server_error(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = client.base_url
    assert url.host is not None and url.port is not None
    head = b"POST /api/tools/add/execute HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    with caplog.at_level("INFO", logger="actors.server"):
        stream = await trio.open_tcp_stream(url.host, url.port)
        async with stream:
            await stream.send_all(head)
            await trio.sleep(0.05)
        with trio.fail_after(5):
            while not any("disconnected" in r.getMessage() for r in caplog.records):
                await trio.sleep(0.01)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert (await client.get("/health")).status_code == 200


async def test_objects_made_at_startup_are_frozen_out_of_collections(
    open_server: OpenServer,
) -> None:
    gc.unfreeze()
    try:
        async with open_server() as (_, client):
            assert gc.get_freeze_count() > 0  # full collections skip the startup objects
            assert (await client.get("/health")).status_code == 200
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("option", "expected"), [(12_345, 12_345), (0, None)])
async def test_the_server_spaces_young_collections_as_configured(
    open_server: OpenServer, option: int, expected: int | None
) -> None:
    before = gc.get_threshold()
    try:
        async with open_server(gc_threshold=option) as (_, client):
            assert (await client.get("/health")).status_code == 200
            assert gc.get_threshold()[0] == (before[0] if expected is None else expected)
            assert gc.get_threshold()[1:] == before[1:]
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
