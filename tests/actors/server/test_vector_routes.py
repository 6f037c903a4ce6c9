from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from actors.stores import SqliteStore, VectorStore
from tests.actors.server.conftest import OpenServer

BASE = "/api/vector/default"


@pytest.fixture
async def http(open_server: OpenServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with open_server() as (t, client):
        await t.rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        db = str(tmp_path / "m.db")
        await t.rt.spawn(partial(SqliteStore, db, synchronous="normal"), name="store", kind="store")
        yield client


async def _index_with_two(http: httpx.AsyncClient) -> None:
    created = await http.post(
        f"{BASE}/create-index", json={"indexName": "wire_idx", "dimension": 3, "metric": "cosine"}
    )
    assert (created.status_code, created.json()) == (200, {"success": True})
    upserted = await http.post(
        f"{BASE}/upsert",
        json={
            "indexName": "wire_idx",
            "vectors": [[1, 0, 0], [0, 1, 0]],
            "metadata": [{"label": "x"}, {"label": "y"}],
            "ids": ["a", "b"],
        },
    )
    assert (upserted.status_code, upserted.json()) == (200, {"ids": ["a", "b"]})


async def test_index_lifecycle_and_query(http: httpx.AsyncClient) -> None:
    await _index_with_two(http)
    assert (await http.get(f"{BASE}/indexes")).json() == ["wire_idx"]
    info = (await http.get(f"{BASE}/indexes/wire_idx")).json()
    assert info == {"dimension": 3, "count": 2, "metric": "cosine"}
    query = {"indexName": "wire_idx", "queryVector": [1, 0, 0], "topK": 2}
    filtered = await http.post(f"{BASE}/query", json={**query, "filter": {"label": {"$eq": "x"}}})
    assert filtered.json() == [{"id": "a", "score": pytest.approx(1.0), "metadata": {"label": "x"}}]
    both = (await http.post(f"{BASE}/query", json={**query, "includeVector": True})).json()
    assert [m["id"] for m in both] == ["a", "b"]
    assert both[1]["vector"] == pytest.approx([0, 1, 0])
    deleted = await http.delete(f"{BASE}/indexes/wire_idx")
    assert (deleted.status_code, deleted.json()) == (200, {"success": True})
    assert (await http.get(f"{BASE}/indexes")).json() == []
    assert (await http.delete(f"{BASE}/indexes/wire_idx")).status_code == 404


async def test_upsert_generates_ids(http: httpx.AsyncClient) -> None:
    await _index_with_two(http)
    response = await http.post(
        f"{BASE}/upsert", json={"indexName": "wire_idx", "vectors": [[1, 1, 0]]}
    )
    ids = response.json()["ids"]
    assert len(ids) == 1
    assert ids[0] not in ("a", "b")
    assert (await http.get(f"{BASE}/indexes/wire_idx")).json()["count"] == 3


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("create-index", {"dimension": 3}, "indexName"),
        ("create-index", {"indexName": "i", "dimension": 0}, "dimension"),
        ("create-index", {"indexName": "i", "dimension": 3, "metric": "l7"}, "metric"),
        ("upsert", {"indexName": "wire_idx", "vectors": [[1, "x", 0]]}, "vectors.0.1"),
        ("upsert", {"indexName": "wire_idx", "vectors": [[1, 0]]}, "vectors"),
        ("upsert", {"indexName": "wire_idx", "vectors": [[1, 0, 0]], "ids": []}, "ids"),
        ("upsert", {"indexName": "wire_idx", "vectors": [[1, 0, 0]], "metadata": []}, "metadata"),
        ("query", {"indexName": "wire_idx", "queryVector": [1, 0]}, "queryVector"),
        ("query", {"indexName": "wire_idx", "queryVector": [1, 0, 0], "topK": -1}, "topK"),
        (
            "query",
            {"indexName": "wire_idx", "queryVector": [1, 0, 0], "filter": {"a": {"$zz": 1}}},
            "filter.a.$zz",
        ),
    ],
)
async def test_bad_bodies_name_the_field(
    http: httpx.AsyncClient, route: str, body: dict[str, object], field: str
) -> None:
    await _index_with_two(http)
    response = await http.post(f"{BASE}/{route}", json=body)
    assert response.status_code == 400, response.text
    issue = response.json()["issues"][0]
    assert issue["field"].startswith(field) or f"`{field}`" in issue["message"], issue


async def test_unknown_store_and_index(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/vector/nope/indexes")
    assert (missing.status_code, missing.json()) == (404, {"error": "Vector store nope not found"})
    not_vectors = await http.get("/api/vector/store/indexes")
    assert not_vectors.status_code == 404
    no_index = await http.get(f"{BASE}/indexes/ghost")
    assert no_index.status_code == 404
    query = {"indexName": "ghost", "queryVector": [1.0]}
    assert (await http.post(f"{BASE}/query", json=query)).status_code == 404


async def test_create_index_conflicts_and_is_idempotent(http: httpx.AsyncClient) -> None:
    await _index_with_two(http)
    same = {"indexName": "wire_idx", "dimension": 3, "metric": "cosine"}
    assert (await http.post(f"{BASE}/create-index", json=same)).status_code == 200
    other = await http.post(f"{BASE}/create-index", json={**same, "dimension": 4})
    assert other.status_code == 409


async def test_vector_stores_are_listed_and_other_stores_are_not() -> None:
    from actors.server import GetAddress, Server, ServerConfig
    from actors.stores import SqliteStore, VectorStore
    from runtime.testing import open_test_runtime

    async with open_test_runtime() as t:
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(VectorStore, ":memory:", name="default", kind="store")
        server = await t.rt.spawn(Server, ServerConfig(port=0), name="server")
        async with httpx.AsyncClient(base_url=await server.ask(GetAddress())) as client:
            listed = (await client.get("/api/vectors")).json()
    assert listed == {"vectors": [{"id": "default", "name": "default", "type": "UsearchVector"}]}
