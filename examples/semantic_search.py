"""Retrieval without a network: the hash embedder plus the usearch vector store.

Run it with ``python -m examples.semantic_search``. Documents are embedded by the offline
``hash`` provider, stored with metadata in a vector index, then searched with a metadata
filter applied during the search.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import trio

from actors.llm import HashEmbedConfig, spawn_provider
from actors.llm.messages import EmbeddingResult, EmbedRequest
from actors.stores import VectorStore
from actors.stores.vector_messages import CreateIndex, Query, QueryResult, Upsert
from runtime import RuntimeConfig, TelemetryConfig, open_runtime

DOCS = {
    "trio": ("Trio is a structured concurrency library for async Python", "python"),
    "msgspec": ("msgspec decodes JSON and msgpack into typed structs quickly", "python"),
    "sqlite": ("SQLite is an embedded SQL database engine in a single file", "database"),
    "usearch": ("usearch is a vector search engine with HNSW indexes", "database"),
}


async def main(directory: str | None = None) -> list[str]:
    """Index ``DOCS`` and run two searches; returns the lines it printed."""
    folder = Path(directory or tempfile.mkdtemp())
    lines: list[str] = []
    async with open_runtime(RuntimeConfig(telemetry=TelemetryConfig(enabled=False))) as rt:
        embedder = await spawn_provider(rt, "hash", HashEmbedConfig(dimension=256))
        vectors = await rt.spawn(
            VectorStore, str(folder / "vectors.db"), name="vectors", kind="store"
        )
        texts = [text for text, _ in DOCS.values()]
        embedded: EmbeddingResult = await embedder.ask(EmbedRequest(inputs=texts))
        await vectors.ask(CreateIndex(index_name="docs", dimension=256))
        await vectors.ask(
            Upsert(
                index_name="docs",
                vectors=embedded.vectors,
                ids=list(DOCS),
                metadata=[{"topic": topic, "text": text} for text, topic in DOCS.values()],
            )
        )
        for question, where in (
            ("structured concurrency in python", None),
            ("a database in one file", {"topic": {"$eq": "database"}}),
        ):
            query: EmbeddingResult = await embedder.ask(EmbedRequest(inputs=[question]))
            hits: list[QueryResult] = await vectors.ask(
                Query(index_name="docs", query_vector=query.vectors[0], top_k=1, filter=where)
            )
            lines.append(f"{question} -> {hits[0].id}")
    for line in lines:
        print(line)
    return lines


if __name__ == "__main__":
    trio.run(main)
