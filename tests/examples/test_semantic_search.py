from __future__ import annotations

from pathlib import Path

from examples import semantic_search


async def test_semantic_search_finds_documents_by_meaning_and_filter(tmp_path: Path) -> None:
    lines = await semantic_search.main(str(tmp_path))
    assert lines == [
        "structured concurrency in python -> trio",
        "a database in one file -> sqlite",
    ]
