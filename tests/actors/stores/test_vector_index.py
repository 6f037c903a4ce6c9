from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.stores._vecsql import Removed, Upserted
from actors.stores._vfiles import index_folder, open_view, save_index
from actors.stores._vindex import HnswOptions, QuerySpec, VectorIndex
from actors.stores._vmatrix import VectorMatrix
from actors.stores.vector_messages import Metric


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def reference(metric: Metric, queries: np.ndarray, data: np.ndarray) -> np.ndarray:
    q, m = queries.astype(np.float64), data.astype(np.float64)
    if metric == "dot":
        out: np.ndarray = q @ m.T
    elif metric == "cosine":
        out = (q @ m.T) / np.outer(np.linalg.norm(q, axis=1), np.linalg.norm(m, axis=1))
    else:
        out = 1 / (1 + np.linalg.norm(q[:, None, :] - m[None, :, :], axis=2))
    return out


def upserted(keys: list[int], vectors: np.ndarray, seq: int = 1) -> Upserted:
    return Upserted(
        name="i",
        keys=np.asarray(keys, dtype=np.uint64),
        ids=[f"v{k}" for k in keys],
        vectors=vectors.astype(np.float32),
        metadata=[{"k": k, "even": k % 2 == 0} for k in keys],
        seq=seq,
    )


def graph_size(index: VectorIndex) -> int | None:
    return None if index.graph is None else len(index.graph)


def is_view(index: VectorIndex) -> bool:
    return index.graph_viewed and not index.matrix.vectors.flags.writeable


def spec(vector: np.ndarray, top_k: int = 10, **kw: object) -> QuerySpec:
    return QuerySpec(
        vector=vector.astype(np.float32),
        top_k=top_k,
        predicate=kw.get("predicate"),  # type: ignore[arg-type]
        min_score=kw.get("min_score"),  # type: ignore[arg-type]
        include_vector=bool(kw.get("include_vector", False)),
    )


@settings(max_examples=40, deadline=None)
@given(
    metric=st.sampled_from(["cosine", "dot", "euclidean"]),
    ops=st.lists(
        st.tuples(st.booleans(), st.lists(st.integers(0, 30), min_size=1, max_size=6)),
        min_size=1,
        max_size=25,
    ),
    seed=st.integers(0, 1000),
)
def test_matrix_matches_a_dict_of_vectors(
    metric: Metric, ops: list[tuple[bool, list[int]]], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    matrix = VectorMatrix(4, metric)
    model: dict[int, np.ndarray] = {}
    for add, keys in ops:
        unique = np.asarray(sorted(set(keys)), dtype=np.uint64)
        if add:
            vectors = rng.standard_normal((len(unique), 4)).astype(np.float32)
            matrix.upsert(unique, vectors)
            model.update(zip(unique.tolist(), vectors, strict=True))
        else:
            matrix.remove(unique)
            for key in unique.tolist():
                model.pop(key, None)
    assert sorted(matrix.keys.tolist()) == sorted(model)
    assert matrix.count == len(model)
    if not model:
        return
    present = np.asarray(sorted(model), dtype=np.uint64)
    expected = np.stack([model[k] for k in present.tolist()])
    assert np.array_equal(matrix.get(present), expected)
    queries = rng.standard_normal((3, 4)).astype(np.float32)
    best, scores = matrix.top(queries, 3)
    want = reference(metric, queries, expected)
    for row in range(3):
        order = np.argsort(-want[row], kind="stable")[: len(best[row])]
        assert scores[row] == pytest.approx(want[row][order], abs=1e-4)


def test_batch_equals_single_queries_and_respects_each_option() -> None:
    rng = np.random.default_rng(4)
    data = unit(rng, 500, 16)
    index = VectorIndex("i", 16, "cosine", HnswOptions())
    index.apply_upsert(upserted(list(range(500)), data))
    queries = unit(rng, 6, 16)
    specs = [
        spec(queries[0], 1),
        spec(queries[1], 10),
        spec(queries[2], 3, include_vector=True),
        spec(queries[3], 5, predicate=lambda m: bool(m["even"])),
        spec(queries[4], 0),
        spec(data[7], 10, min_score=0.99),
    ]
    batch = index.query_many(specs)
    for together, alone in zip(batch, (index.query_many([s])[0] for s in specs), strict=True):
        # a matrix-matrix product may round differently from a matrix-vector one
        assert [(h.id, h.metadata, h.vector) for h in together] == [
            (h.id, h.metadata, h.vector) for h in alone
        ]
        assert [h.score for h in together] == pytest.approx([h.score for h in alone], abs=1e-5)
    for q, top_k, hits in ((queries[0], 1, batch[0]), (queries[1], 10, batch[1])):
        expected = np.argsort(-(data @ q))[:top_k]
        assert [h.id for h in hits] == [f"v{k}" for k in expected]
    assert batch[2][0].vector == pytest.approx(data[int(batch[2][0].id[1:])].tolist())
    assert len(batch[3]) == 5 and all(h.metadata["even"] for h in batch[3])
    assert batch[4] == []
    assert [h.id for h in batch[5]] == ["v7"]


def test_hnsw_path_recall_and_graph_kept_in_step() -> None:
    rng = np.random.default_rng(5)
    data = unit(rng, 3000, 32)
    index = VectorIndex("i", 32, "cosine", HnswOptions(exact_threshold=1000))
    index.apply_upsert(upserted(list(range(900)), data[:900]))
    assert graph_size(index) is None  # below the threshold: exact only
    index.apply_upsert(upserted(list(range(900, 3000)), data[900:]))
    assert graph_size(index) == 3000
    queries = unit(rng, 40, 32)
    answers = index.query_many([spec(q, 10) for q in queries])
    found = sum(
        len(set(np.argsort(-(data @ q))[:10].tolist()) & {int(h.id[1:]) for h in hits})
        for q, hits in zip(queries, answers, strict=True)
    )
    assert found / 400 >= 0.95
    gone = list(range(0, 3000, 2))
    index.apply_remove(
        Removed(name="i", keys=np.asarray(gone, np.uint64), ids=[f"v{k}" for k in gone], seq=3)
    )
    assert graph_size(index) == index.matrix.count == 1500
    hits = index.query_many([spec(data[1], 5)])[0]
    assert hits[0].id == "v1" and hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_saved_generation_is_viewed_and_copied_on_first_change(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    data = unit(rng, 300, 8)
    index = VectorIndex("a/b", 8, "euclidean", HnswOptions(exact_threshold=100))
    index.apply_upsert(upserted(list(range(300)), data, seq=7))
    assert save_index(index, tmp_path) == 7
    save_index(index, tmp_path)  # a second generation replaces the first
    folder = index_folder(tmp_path, "a/b")
    assert sorted(p.name for p in folder.iterdir()) == [
        "g2.graph.usearch",
        "g2.keys.npy",
        "g2.vectors.npy",
        "manifest.json",
    ]
    opened = VectorIndex("a/b", 8, "euclidean", HnswOptions(exact_threshold=100))
    assert open_view(opened, tmp_path) == 7
    assert is_view(opened)
    opened.apply_upsert(upserted([5, 1000], unit(rng, 2, 8), seq=8))
    assert not is_view(opened) and opened.matrix.vectors.flags.writeable
    assert graph_size(opened) == 301
    wrong = VectorIndex("a/b", 9, "euclidean", HnswOptions())
    assert open_view(wrong, tmp_path) is None
    (folder / "g2.keys.npy").write_bytes(b"garbage")
    assert open_view(VectorIndex("a/b", 8, "euclidean", HnswOptions()), tmp_path) is None


@pytest.mark.parametrize("k", [1, 10, 70])
def test_wide_rows_select_the_same_top_k_as_a_full_sort(k: int) -> None:
    rng = np.random.default_rng(k)
    data = rng.standard_normal((5000, 6)).astype(np.float32)
    data[100:200] = data[50]  # ties
    matrix = VectorMatrix(6, "dot")
    matrix.upsert(np.arange(5000, dtype=np.uint64), data)
    queries = rng.standard_normal((7, 6)).astype(np.float32)
    keys, scores = matrix.top(queries, k)
    for row, q in enumerate(queries):
        full = np.sort(data @ q)[::-1][:k]
        assert scores[row] == pytest.approx(full, abs=1e-4)
        assert scores[row] == pytest.approx(data[keys[row].astype(np.int64)] @ q, abs=1e-4)
