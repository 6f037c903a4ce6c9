"""Studio's files, its filled index.html and client-side routes, the refresh stream, and
the system and observability routes it calls."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
import pytest
import trio

from actors.agent import Agent
from actors.demo import add
from actors.llm import ScriptedConfig, spawn_provider
from actors.observability import Observability, TraceStore, TraceStoreExporter
from actors.server import GetAddress, Server, ServerConfig
from runtime import open_runtime
from tests.actors.server.conftest import OpenServer

INDEX = (
    "<script>window.HOST='%%MASTRA_SERVER_HOST%%';window.PORT='%%MASTRA_SERVER_PORT%%';"
    "window.ID='%%MASTRA_DEV_SERVER_INSTANCE_ID%%';window.X='%%MASTRA_UNKNOWN%%';</script>"
)


@pytest.fixture
def studio_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "main-1.js").write_text("console.log(1)")
    (tmp_path / "assets" / "font.woff2").write_bytes(b"\x00")
    (tmp_path / "tile.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("no")
    return tmp_path


async def test_pages_assets_and_api_misses(open_server: OpenServer, studio_dir: Path) -> None:
    async with open_server(studio_dir=str(studio_dir)) as (_, client):
        port = client.base_url.port
        for path in ("/", "/agents/echo/chat", "/workflows/three-step/graph"):
            page = await client.get(path)
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert f"window.HOST='127.0.0.1';window.PORT='{port}'" in page.text
            assert "window.X=''" in page.text and "%%" not in page.text
        script = await client.get("/assets/main-1.js")
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "immutable" in script.headers["cache-control"]
        assert (await client.get("/assets/font.woff2")).headers["content-type"] == "font/woff2"
        assert (await client.get("/tile.svg")).headers["content-type"] == "image/svg+xml"
        assert (await client.get("/assets/missing.js")).status_code == 404
        assert "no" not in (await client.get("/assets/../../secret.txt")).text
        assert (await client.get("/api/nothing-here")).status_code == 404
        assert (await client.post("/api/agents")).status_code == 405
        assert (await client.get("/api/tools")).status_code == 200


async def test_host_header_cannot_inject_script(open_server: OpenServer, studio_dir: Path) -> None:
    async with open_server(studio_dir=str(studio_dir)) as (_, client):
        page = await client.get("/", headers={"host": "x';alert(1);//:80"})
        assert "alert" not in page.text
        assert "window.HOST='127.0.0.1'" in page.text


async def test_refresh_events_say_connected_then_refresh(
    open_server: OpenServer, studio_dir: Path
) -> None:
    async with (
        open_server(studio_dir=str(studio_dir)) as (_, client),
        client.stream("GET", "/refresh-events") as events,
    ):
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.aiter_lines()
        first = await anext(lines)
        assert first.startswith("id: ")
        assert await anext(lines) == "data: connected"
        triggered = await client.post("/__refresh", json={})
        assert triggered.json() == {"success": True, "clients": 1}
        assert [await anext(lines), await anext(lines)] == ["", "data: refresh"]
        assert (await client.get("/__hot-reload-status")).json()["disabled"] is False


async def test_no_studio_without_studio_dir(open_server: OpenServer) -> None:
    async with open_server() as (_, client):
        assert (await client.get("/agents")).status_code == 404


async def test_system_routes(open_server: OpenServer) -> None:
    async with open_server() as (_, client):
        assert (await client.get("/api/auth/capabilities")).json() == {
            "enabled": False,
            "login": None,
        }
        packages = (await client.get("/api/system/packages")).json()
        assert packages["observabilityEnabled"] is False
        assert packages["packages"][0]["name"] == "mastra-runtime"
        assert (await client.get("/api/agents/providers")).json() == {"providers": []}
        empty = (await client.get("/api/observability/traces")).json()
        assert empty == {
            "pagination": {"total": 0, "page": 0, "perPage": 10, "hasMore": False},
            "spans": [],
        }
        bad = await client.get("/api/observability/traces", params={"perPage": "0"})
        assert bad.status_code == 400
        assert bad.json()["issues"][0]["field"] == "perPage"
        bad = await client.get("/api/observability/traces", params={"status": "odd"})
        assert bad.status_code == 400
        assert bad.json()["issues"][0]["field"] == "status"
        assert (await client.get("/api/observability/traces/abc")).status_code == 404


async def test_traces_of_an_agent_turn() -> None:
    store = TraceStore()
    async with open_runtime(span_exporter=TraceStoreExporter(store)) as rt:
        await spawn_provider(rt, "scripted", ScriptedConfig())
        await rt.spawn(Agent(name="echo", instructions="Echo.", model="scripted", tools=[add]))
        await rt.spawn(
            functools.partial(Observability, store), name="observability", kind="observability"
        )
        server = await rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            await client.get("/api/agents")  # a page polling: no trace is kept
            reply = await client.post(
                "/api/agents/echo/generate", json={"messages": "please add 2 and 40"}
            )
            assert reply.status_code == 200
            # the agent's spans end just after its reply was sent: wait for them
            with trio.fail_after(10):
                while True:
                    listed = (await client.get("/api/observability/traces?entityId=echo")).json()
                    if listed["pagination"]["total"]:
                        break
                    await trio.sleep(0.01)
            assert listed["pagination"]["total"] == 1
            root = listed["spans"][0]
            # the request's own span may still be ending: the root is it or the agent's hop
            assert root["name"] in {"POST /api/agents/echo/generate", "echo Generate"}
            assert (root["entityType"], root["spanType"], root["status"]) == (
                "agent",
                "agent_run",
                "success",
            )
            trace = (await client.get(f"/api/observability/traces/{root['traceId']}")).json()
            types = {span["name"]: span["spanType"] for span in trace["spans"]}
            assert types["invoke_agent echo"] == "agent_run"
            assert types["execute_tool add"] == "tool_call"
            tool = next(s for s in trace["spans"] if s["name"] == "execute_tool add")
            one = await client.get(
                f"/api/observability/traces/{root['traceId']}/spans/{tool['spanId']}"
            )
            assert one.json()["span"]["entityName"] == "add"
            query = await client.post(
                "/api/observability/traces/query", json={"page": {"limit": 5, "after": None}}
            )
            assert [row["traceId"] for row in query.json()["traces"]] == [root["traceId"]]
            assert query.json()["page"]["next"] is None
            nothing = await client.get("/api/observability/traces?entityId=other")
            assert nothing.json()["pagination"]["total"] == 0
            packages = (await client.get("/api/system/packages")).json()
            assert packages["observabilityEnabled"] is True
