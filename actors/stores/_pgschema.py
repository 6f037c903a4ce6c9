"""Versioned schema migrations of the Postgres stores, one list per component.

``mastra_schema`` records the last applied migration of each component (``store`` for
records, memory and workflow runs; ``vectors`` for pgvector indexes). Each migration runs in
its own transaction together with its version bump, under an advisory lock, so several
processes starting at once against one database migrate it exactly once. A database newer
than this code is refused.
"""

from __future__ import annotations

from typing import Any

from actors.stores._errors import StoreError

__all__ = ["MIGRATIONS", "migrate"]

_LOCK = 0x6D617374  # advisory lock key held while migrating ("mast")

MIGRATIONS: dict[str, tuple[str, ...]] = {
    "store": (
        # 1: collections, memory tables, workflow runs
        """
        CREATE TABLE mastra_records (
            collection text NOT NULL, id text NOT NULL, data text NOT NULL,
            created_at double precision NOT NULL, updated_at double precision NOT NULL,
            PRIMARY KEY (collection, id)
        );
        CREATE TABLE mastra_resources (
            id text PRIMARY KEY, working_memory text, metadata text NOT NULL,
            created_at double precision NOT NULL, updated_at double precision NOT NULL
        );
        CREATE TABLE mastra_threads (
            id text PRIMARY KEY, resource_id text NOT NULL, title text NOT NULL,
            metadata text NOT NULL, working_memory text,
            created_at double precision NOT NULL, updated_at double precision NOT NULL
        );
        CREATE INDEX mastra_threads_by_resource ON mastra_threads (resource_id, created_at);
        CREATE TABLE mastra_messages (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
            thread_id text NOT NULL, resource_id text, role text NOT NULL, type text NOT NULL,
            content text NOT NULL, importance double precision NOT NULL,
            created_at double precision NOT NULL
        );
        CREATE INDEX mastra_messages_by_thread ON mastra_messages (thread_id, created_at, seq);
        CREATE INDEX mastra_messages_by_resource ON mastra_messages (resource_id, created_at);
        CREATE TABLE mastra_workflow_runs (
            workflow_name text NOT NULL, run_id text NOT NULL, status text NOT NULL,
            snapshot text NOT NULL, resource_id text,
            created_at double precision NOT NULL, updated_at double precision NOT NULL,
            PRIMARY KEY (workflow_name, run_id)
        );
        CREATE INDEX mastra_workflow_runs_by_created ON mastra_workflow_runs (created_at);
        CREATE INDEX mastra_workflow_runs_by_status ON mastra_workflow_runs (status, created_at);
        """,
        # 2: leases: the node driving a run, and until when (database clock, epoch seconds)
        """
        ALTER TABLE mastra_workflow_runs ADD COLUMN owner text,
            ADD COLUMN lease_until double precision;
        CREATE INDEX mastra_workflow_runs_by_lease
            ON mastra_workflow_runs (workflow_name, lease_until)
            WHERE status IN ('running', 'waiting');
        """,
        # 3: a cancel asked of a run another node drives, seen by that node's heartbeat
        """
        ALTER TABLE mastra_workflow_runs
            ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
        """,
    ),
    "vectors": (
        # 1: pgvector and the registry of indexes; each index has a table of its own
        """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE mastra_vector_indexes (
            name text PRIMARY KEY, dimension integer NOT NULL, metric text NOT NULL,
            table_name text NOT NULL UNIQUE, created_at double precision NOT NULL
        );
        CREATE SEQUENCE mastra_vector_tables;
        """,
    ),
}


def migrate(conn: Any, component: str) -> int:
    """Apply the missing migrations of ``component`` on an autocommit psycopg connection;
    return the resulting version.

    Raises ``StoreError`` when the database was written by a newer schema. A failing
    migration is rolled back whole and its error propagates.
    """
    steps = MIGRATIONS[component]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS mastra_schema"
            " (component text PRIMARY KEY, version integer NOT NULL)"
        )
    version = 0
    for number in range(1, len(steps) + 1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            version = _version(conn, component)
            if version > len(steps):
                raise StoreError(
                    f"database schema version {version} of {component!r} is newer than this"
                    f" code's {len(steps)}"
                )
            if version < number:
                conn.execute(steps[number - 1])
                conn.execute(
                    "INSERT INTO mastra_schema (component, version) VALUES (%s, %s)"
                    " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (component, number),
                )
                version = number
    return version


def _version(conn: Any, component: str) -> int:
    row = conn.execute(
        "SELECT version FROM mastra_schema WHERE component = %s", (component,)
    ).fetchone()
    return 0 if row is None else int(row[0])
