from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgcluster import Cluster, open_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway Postgres (with pgvector) for the whole test session."""
    with open_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database of the session's cluster."""
    return pg_cluster.create_database()
