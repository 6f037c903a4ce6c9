from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
import trio

from actors.stores import (
    DimensionMismatch,
    FilterError,
    IndexExists,
    InvalidRequest,
    UnknownIndex,
    VectorStore,
)
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DeleteVectors,
    DescribeIndex,
    ListIndexes,
    Query,
    Upsert,
    VectorRequest,
)
from runtime import ActorRef, Mastra
from tests.actors.stores.conftest import Backend


async def spawn(rt: Mastra, path: str = ":memory:", name: str = "vectors", **kw: Any) -> ActorRef:
    factory = functools.partial(VectorStore, path, **kw)
    return await rt.spawn(factory, name=name, kind="store")


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


@pytest.mark.parametrize(
    ("metric", "query", "best", "score"),
    [
        ("cosine", [2.0, 0.0], "x", 1.0),
        ("dot", [2.0, 0.0], "big", 6.0),
        ("euclidean", [3.0, 1.0], "big", 1.0),
    ],
)
async def test_metrics_and_scores(  # noqa: PLR0917 - fixtures and parameters
    rt: Mastra, backend: Backend, metric: str, query: list[float], best: str, score: float
) -> None:
    store = await backend.vectors(rt)
    await store.ask(CreateIndex(index_name="i", dimension=2, metric=metric))  # type: ignore[arg-type]
    await store.ask(Upsert(index_name="i", ids=["x", "big", "y"], vectors=[[1, 0], [3, 1], [0, 1]]))
    hits = await store.ask(Query(index_name="i", query_vector=query, top_k=3))
    assert hits[0].id == best
    assert hits[0].score == pytest.approx(score, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_upsert_replaces_and_delete_removes(rt: Mastra, backend: Backend) -> None:
    store = await backend.vectors(rt)
    await store.ask(CreateIndex(index_name="i", dimension=3))
    await store.ask(Upsert(index_name="i", ids=["a"], vectors=[[1, 0, 0]], metadata=[{"v": 1}]))
    await store.ask(Upsert(index_name="i", ids=["a"], vectors=[[0, 1, 0]], metadata=[{"v": 2}]))
    [hit] = await store.ask(
        Query(index_name="i", query_vector=[0, 1, 0], top_k=5, include_vector=True)
    )
    assert (hit.id, hit.metadata, hit.vector) == ("a", {"v": 2}, [0.0, 1.0, 0.0])
    assert await store.ask(DeleteVectors(index_name="i", ids=["a", "zz"])) == ["a"]
    assert await store.ask(Query(index_name="i", query_vector=[0, 1, 0])) == []
    generated = await store.ask(Upsert(index_name="i", vectors=[[1, 1, 1]]))
    assert len(generated) == 1 and len(generated[0]) == 36
    assert await store.ask(ListIndexes()) == ["i"]
    assert await store.ask(DeleteIndex(index_name="i")) is True
    assert await store.ask(ListIndexes()) == []


async def test_errors_name_the_index_and_expected_value(rt: Mastra, backend: Backend) -> None:
    store = await backend.vectors(rt)
    await store.ask(CreateIndex(index_name="docs", dimension=3))
    with pytest.raises(
        DimensionMismatch, match=r"'docs' expects dimension 3, got 2 at `vectors\[1\]`"
    ):
        await store.ask(Upsert(index_name="docs", vectors=[[1, 2, 3], [1, 2]]))
    with pytest.raises(
        DimensionMismatch, match="'docs' expects dimension 3, got 4 at `query_vector`"
    ):
        await store.ask(Query(index_name="docs", query_vector=[1, 2, 3, 4]))
    with pytest.raises(InvalidRequest, match="`query_vector` must hold finite numbers"):
        await store.ask(Query(index_name="docs", query_vector=[1, float("nan"), 3]))
    with pytest.raises(UnknownIndex, match="'nope'"):
        await store.ask(Query(index_name="nope", query_vector=[1]))
    with pytest.raises(UnknownIndex, match="'nope'"):
        await store.ask(Upsert(index_name="nope", vectors=[[1]]))
    with pytest.raises(IndexExists, match="dimension 3"):
        await store.ask(CreateIndex(index_name="docs", dimension=4))
    with pytest.raises(FilterError, match=r"\$.a.\$bad"):
        await store.ask(Query(index_name="docs", query_vector=[1, 2, 3], filter={"a": {"$bad": 1}}))
    info = await store.ask(DescribeIndex(index_name="docs"))
    assert (info.dimension, info.metric, info.count) == (3, "cosine", 0)


@pytest.mark.parametrize("exact_threshold", [100_000, 50])
async def test_filter_applies_during_the_search(
    rt: Mastra, backend: Backend, exact_threshold: int
) -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 2000, 16)
    store = await backend.vectors(rt, exact_threshold=exact_threshold)
    await store.ask(CreateIndex(index_name="i", dimension=16))
    meta = [{"group": "rare" if i % 100 == 0 else "common", "n": i} for i in range(2000)]
    ids = [str(i) for i in range(2000)]
    await store.ask(Upsert(index_name="i", ids=ids, vectors=vectors.tolist(), metadata=meta))
    query = vectors[5]
    hits = await store.ask(
        Query(index_name="i", query_vector=query.tolist(), top_k=5, filter={"group": "rare"})
    )
    rare = [i for i in range(2000) if i % 100 == 0]
    expected = sorted(rare, key=lambda i: -float(vectors[i] @ query))[:5]
    assert [h.id for h in hits] == [
        str(i) for i in expected
    ]  # 5 hits although none is in the unfiltered top 5
    wide = await store.ask(
        Query(index_name="i", query_vector=query.tolist(), top_k=10, filter={"n": {"$gte": 1000}})
    )
    assert len(wide) == 10 and all(h.metadata["n"] >= 1000 for h in wide)
    strong = await store.ask(
        Query(index_name="i", query_vector=query.tolist(), top_k=10, min_score=0.999)
    )
    assert [h.id for h in strong] == ["5"]


async def test_hnsw_recall_against_exact(rt: Mastra, backend: Backend) -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 3000, 32)
    store = await backend.vectors(rt, exact_threshold=100)
    await store.ask(CreateIndex(index_name="i", dimension=32))
    await store.ask(
        Upsert(index_name="i", ids=[str(i) for i in range(3000)], vectors=vectors.tolist())
    )
    found = 0
    for q in unit(rng, 20, 32):
        exact = set(np.argsort(-(vectors @ q))[:10].tolist())
        hits = await store.ask(Query(index_name="i", query_vector=q.tolist(), top_k=10))
        found += len(exact & {int(h.id) for h in hits})
    assert found / 200 >= 0.95
    if backend.name != "sqlite":
        return
    index = store._cell.instance._registry.indexes["i"]  # type: ignore[union-attr]
    assert index.graph is not None and len(index.graph) == 3000


async def test_concurrent_queries_each_get_their_own_answer(rt: Mastra, backend: Backend) -> None:
    rng = np.random.default_rng(3)
    data = {name: unit(rng, 400, 8) for name in ("a", "b")}
    store = await backend.vectors(rt)
    for name, vectors in data.items():
        await store.ask(CreateIndex(index_name=name, dimension=8, metric="dot"))
        ids = [f"{name}{i}" for i in range(400)]
        meta = [{"odd": i % 2 == 1} for i in range(400)]
        await store.ask(Upsert(index_name=name, ids=ids, vectors=vectors.tolist(), metadata=meta))
    queries = unit(rng, 96, 8)
    answers: dict[int, list[str]] = {}

    async def ask(i: int) -> None:
        name, top_k = "ab"[i % 2], 1 + i % 12
        odd = i % 3 == 0
        hits = await store.ask(
            Query(
                index_name=name,
                query_vector=queries[i].tolist(),
                top_k=top_k,
                filter={"odd": True} if odd else None,
            )
        )
        answers[i] = [h.id for h in hits]

    async with trio.open_nursery() as nursery:
        for i in range(len(queries)):
            nursery.start_soon(ask, i)
    for i, q in enumerate(queries):
        name, top_k = "ab"[i % 2], 1 + i % 12
        scores = data[name] @ q
        order = [k for k in np.argsort(-scores) if i % 3 or k % 2 == 1][:top_k]
        assert answers[i] == [f"{name}{k}" for k in order], i
    if backend.name != "sqlite":
        return
    batcher = store._cell.instance._batcher  # type: ignore[union-attr]
    assert batcher.queries >= 96 and batcher.batches < batcher.queries / 4


async def test_graph_is_saved_viewed_and_repaired(rt: Mastra, tmp_path: Path) -> None:
    path = str(tmp_path / "g.db")
    rng = np.random.default_rng(8)
    vectors = unit(rng, 60, 4)
    store = await spawn(rt, path, exact_threshold=10)
    await store.ask(CreateIndex(index_name="g", dimension=4))
    ids = [str(i) for i in range(60)]
    await store.ask(Upsert(index_name="g", ids=ids, vectors=vectors.tolist()))
    await rt.stop(store)
    store = await spawn(rt, path, exact_threshold=10)
    assert store._cell.instance.opened == {"g": "view"}  # type: ignore[union-attr]
    index = store._cell.instance._registry.indexes["g"]  # type: ignore[union-attr]
    assert index.graph_viewed and len(index.graph) == 60
    await rt.stop(store)
    with sqlite3.connect(path) as conn:  # committed but never saved, as after a crash
        conn.execute("DELETE FROM vectors WHERE id IN ('0', '1', '2')")
        conn.execute("UPDATE vector_indexes SET seq = 99")
    store = await spawn(rt, path, exact_threshold=10)
    assert store._cell.instance.opened == {"g": "repaired"}  # type: ignore[union-attr]
    index = store._cell.instance._registry.indexes["g"]  # type: ignore[union-attr]
    assert sorted(np.asarray(index.graph.keys).tolist()) == sorted(index.matrix.keys.tolist())
    assert len(index.graph) == index.matrix.count == 57
    hits = await store.ask(Query(index_name="g", query_vector=vectors[5].tolist(), top_k=3))
    assert hits[0].id == "5" and "0" not in {h.id for h in hits}


async def test_saved_index_is_viewed_then_repaired_from_sqlite(rt: Mastra, tmp_path: Path) -> None:
    path = str(tmp_path / "v.db")
    store = await spawn(rt, path)
    await store.ask(CreateIndex(index_name="i", dimension=2))
    await store.ask(Upsert(index_name="i", ids=["a", "b"], vectors=[[1, 0], [0, 1]]))
    await rt.stop(store)  # saves the index
    store = await spawn(rt, path)
    assert store._cell.instance.opened == {"i": "view"}  # type: ignore[union-attr]
    assert (await store.ask(Query(index_name="i", query_vector=[0, 1], top_k=1)))[0].id == "b"
    await rt.stop(store)
    # a change committed to SQLite but never saved to the index file, as after a crash
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM vectors WHERE id = 'a'")
        blob = np.asarray([0.6, 0.8], dtype=np.float32).tobytes()
        conn.execute("UPDATE vectors SET vector = ?, seq = 99 WHERE id = 'b'", (blob,))
        conn.execute("UPDATE vector_indexes SET seq = 99")
    store = await spawn(rt, path)
    assert store._cell.instance.opened == {"i": "repaired"}  # type: ignore[union-attr]
    [hit] = await store.ask(
        Query(index_name="i", query_vector=[0.6, 0.8], top_k=5, include_vector=True)
    )
    assert hit.id == "b" and hit.vector == pytest.approx([0.6, 0.8])
    for saved in (tmp_path / "v.db.usearch.d" / "i").glob("g*.npy"):
        saved.write_bytes(b"garbage")
    await rt.stop(store)  # nothing changed, so the garbage file stays
    store = await spawn(rt, path)
    assert store._cell.instance.opened == {"i": "rebuilt"}  # type: ignore[union-attr]
    assert (await store.ask(DescribeIndex(index_name="i"))).count == 1


def test_requests_round_trip() -> None:
    msgs: list[VectorRequest] = [
        CreateIndex(index_name="i", dimension=3, metric="dot"),
        Upsert(index_name="i", vectors=[[1.0, 2.0]], ids=["a"], metadata=[{"k": [1, "x"]}]),
        Query(
            index_name="i", query_vector=[0.5], top_k=3, filter={"$or": [{"a": 1}]}, min_score=0.2
        ),
        DeleteVectors(index_name="i", filter={"thread_id": "t"}),
        ListIndexes(),
    ]
    for msg in msgs:
        for codec in (msgspec.msgpack, msgspec.json):
            assert codec.decode(codec.encode(msg), type=VectorRequest) == msg
