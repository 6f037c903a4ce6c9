"""``/api/logs/transports``, ``/api/logs`` and ``/api/logs/:runId`` on a real server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from actors.agent import Agent
from actors.llm import ScriptedConfig, ScriptedTurn, ScriptRule, spawn_provider
from actors.server import TokenConfig
from tests.actors.server.conftest import OpenServer

MINE = "filters=name:tests.logs"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.logs")
    log.setLevel(logging.DEBUG)
    yield log
    log.setLevel(logging.NOTSET)


def _log_four(log: logging.Logger) -> None:
    log.info("one", extra={"runId": "r1"})
    log.warning("two")
    log.error("three", extra={"run_id": "r1"})
    log.debug("four")


async def _logs(client: Any, query: str, path: str = "/api/logs") -> dict[str, Any]:
    response = await client.get(f"{path}?transportId=memory&{MINE}&{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_records_are_listed_like_mastras_logs(
    open_server: OpenServer, logger: logging.Logger
) -> None:
    async with open_server() as (_, client):
        assert (await client.get("/api/logs/transports")).json() == {"transports": ["memory"]}
        _log_four(logger)
        listed = await _logs(client, "")
        assert [r["msg"] for r in listed["logs"]] == ["one", "two", "three", "four"]
        assert (listed["total"], listed["page"], listed["perPage"], listed["hasMore"]) == (
            4,
            1,
            100,
            False,
        )
        first = listed["logs"][0]
        assert {"level", "time", "pid", "hostname", "name", "msg", "runId"} <= set(first)
        assert (first["level"], first["name"], first["runId"]) == ("info", "tests.logs", "r1")
        assert [r["level"] for r in listed["logs"]] == ["info", "warn", "error", "debug"]
        assert "runId" not in listed["logs"][1]
        warn = await _logs(client, "logLevel=warn")
        assert [r["msg"] for r in warn["logs"]] == ["two"]
        run = await _logs(client, "", "/api/logs/r1")
        assert [r["msg"] for r in run["logs"]] == ["one", "three"]
        paged = await _logs(client, "page=2&perPage=1")
        assert [r["msg"] for r in paged["logs"]] == ["two"] and paged["hasMore"] is True
        assert (await _logs(client, "fromDate=2999-01-01T00:00:00Z"))["total"] == 0
        assert (await _logs(client, "toDate=946684800000"))["total"] == 0  # year 2000, in ms
        assert (await _logs(client, f"fromDate={first['time']}"))["total"] == 4
        unknown = await client.get("/api/logs?transportId=file")
        assert unknown.json() == {
            "logs": [],
            "total": 0,
            "page": 1,
            "perPage": 100,
            "hasMore": False,
        }


async def test_bad_queries_are_400_naming_the_parameter(open_server: OpenServer) -> None:
    async with open_server() as (_, client):
        missing = await client.get("/api/logs")
        assert missing.status_code == 400
        assert missing.json()["error"] == 'Argument "transportId" is required'
        assert (await client.get("/api/logs/r1")).status_code == 400
        for query, field in [
            ("logLevel=verbose", "logLevel"),
            ("page=x", "page"),
            ("perPage=-1", "perPage"),
            ("fromDate=soon", "fromDate"),
            ("toDate=later", "toDate"),
            ("filters=nocolon", "filters"),
        ]:
            response = await client.get(f"/api/logs?transportId=memory&{query}")
            assert response.status_code == 400, query
            assert response.json()["issues"][0]["field"] == field


async def test_the_buffer_keeps_the_newest_records(
    open_server: OpenServer, logger: logging.Logger
) -> None:
    async with open_server(log_buffer=3) as (_, client):
        for index in range(5):
            logger.warning("record %d", index)
        listed = await client.get(f"/api/logs?transportId=memory&{MINE}")
        assert [r["msg"] for r in listed.json()["logs"]] == ["record 2", "record 3", "record 4"]
    async with open_server(log_buffer=0) as (_, client):
        assert (await client.get("/api/logs/transports")).json() == {"transports": []}
        assert (await client.get("/api/logs?transportId=memory")).json()["total"] == 0


async def test_a_failed_turn_is_logged_under_its_run_id(open_server: OpenServer) -> None:
    failing = ScriptedConfig(rules=[ScriptRule(turns=[ScriptedTurn(error="unavailable")])])
    async with open_server() as (t, client):
        await spawn_provider(t.rt, "failing", failing)
        await t.rt.spawn(Agent(name="broken", instructions="", model="failing"))
        body = {"messages": "hi", "runId": "run-42"}
        assert (await client.post("/api/agents/broken/generate", json=body)).status_code == 502
        logs = (await client.get("/api/logs/run-42?transportId=memory")).json()["logs"]
        assert any("generate on broken failed" in r["msg"] for r in logs)
        assert all(r["runId"] == "run-42" for r in logs)


async def test_only_unlimited_tokens_read_logs(open_server: OpenServer) -> None:
    tokens = [TokenConfig(token="all"), TokenConfig(token="some", agents=["echo"])]
    async with open_server(tokens=tokens) as (_, client):
        for path in ("/api/logs/transports", "/api/logs?transportId=memory", "/api/logs/r1"):
            limited = await client.get(path, headers={"authorization": "Bearer some"})
            assert limited.status_code == 403, path
            assert limited.json() == {"error": "Forbidden: this token may not read logs"}
            assert (await client.get(path)).status_code == 401
        full = await client.get("/api/logs/transports", headers={"authorization": "Bearer all"})
        assert full.json() == {"transports": ["memory"]}
