"""Saving a vector index to disk and opening it again as a memory-mapped view.

Each index has its own folder ``<directory>/<name>/`` holding one *generation* of files:
``g<N>.keys.npy`` and ``g<N>.vectors.npy`` (the matrix rows), ``g<N>.graph.usearch`` (the HNSW
graph, when the index has one) and ``manifest.json`` naming the generation, the ``seq`` it
reflects, the row count and the dimension. Every file is written to a temporary name, synced
and renamed; the manifest is written last, so a crash at any point leaves the previous
generation (or none) in force, never a mix. Older generations are deleted after the manifest.
All functions block (run them on worker threads).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from usearch.index import Index

from actors.stores._vecsql import F32, U64
from actors.stores._vindex import VectorIndex
from actors.stores._vmatrix import VectorMatrix

__all__ = ["index_folder", "open_view", "remove_files", "save_index"]

_MANIFEST = "manifest.json"


def index_folder(directory: Path, name: str) -> Path:
    """The folder of index ``name`` (the name escaped to a safe file name)."""
    safe = "".join(c if c.isalnum() or c in "-_" else f"%{ord(c):02x}" for c in name)
    return directory / safe


def save_index(index: VectorIndex, directory: Path) -> int:
    """Write a new generation of ``index``'s files; return the ``seq`` it reflects.

    Holds the index's read lock while writing. On failure (disk full, I/O error) the exception
    propagates and the previous generation stays in force.
    """
    folder = index_folder(directory, index.name)
    folder.mkdir(parents=True, exist_ok=True)
    gen = _generation(folder) + 1
    with index.lock.read():
        seq, count = index.seq, index.matrix.count
        keys, vectors = index.matrix.keys, index.matrix.vectors
        _atomic(folder / f"g{gen}.keys.npy", lambda f: np.save(f, keys))
        _atomic(folder / f"g{gen}.vectors.npy", lambda f: np.save(f, vectors))
        graph = index.graph
        if graph is not None:
            path = folder / f"g{gen}.graph.usearch"
            tmp = path.with_name(path.name + ".tmp")
            graph.save(str(tmp))
            _sync_replace(tmp, path)
            if index.graph_viewed:
                index.graph_path = str(path)  # the viewed file is deleted below
    record = {"gen": gen, "seq": seq, "count": count, "dimension": index.dimension}
    record["graph"] = graph is not None
    _atomic(folder / _MANIFEST, lambda f: f.write(json.dumps(record).encode()))
    for old in folder.iterdir():
        if old.name != _MANIFEST and not old.name.startswith(f"g{gen}."):
            old.unlink(missing_ok=True)
    return seq


def open_view(index: VectorIndex, directory: Path) -> int | None:
    """Memory-map the saved generation into ``index``; return its ``seq``, or None if unusable.

    A missing, partial or corrupt generation (or one of another dimension) gives None and
    leaves ``index`` unchanged; the caller rebuilds it from SQLite.
    """
    folder = index_folder(directory, index.name)
    try:
        record = json.loads((folder / _MANIFEST).read_text())
        gen, count = int(record["gen"]), int(record["count"])
        if int(record["dimension"]) != index.dimension:
            return None
        keys: U64 = np.load(folder / f"g{gen}.keys.npy", mmap_mode="r")
        vectors: F32 = np.load(folder / f"g{gen}.vectors.npy", mmap_mode="r")
        if keys.dtype != np.uint64 or vectors.dtype != np.float32:
            return None
        if keys.shape != (count,) or vectors.shape != (count, index.dimension):
            return None
        graph, graph_path = None, None
        if record.get("graph"):
            graph_path = str(folder / f"g{gen}.graph.usearch")
            graph = Index.restore(graph_path, view=True)
            if graph is None or graph.ndim != index.dimension or len(graph) != count:
                return None
        seq = int(record["seq"])
    except (OSError, ValueError, RuntimeError, KeyError, TypeError):
        return None
    with index.lock.write():
        index.matrix = VectorMatrix.of(index.dimension, index.metric, keys, vectors)
        index.graph, index.graph_viewed, index.graph_path = graph, graph is not None, graph_path
    return seq


def remove_files(directory: Path, name: str) -> None:
    """Delete every saved file of index ``name``, if any."""
    shutil.rmtree(index_folder(directory, name), ignore_errors=True)


def _generation(folder: Path) -> int:
    try:
        return int(json.loads((folder / _MANIFEST).read_text())["gen"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _atomic(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    _sync_replace(tmp, path)


def _sync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
