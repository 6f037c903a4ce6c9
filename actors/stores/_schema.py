"""Versioned schema migrations, applied in order when a store opens its database.

The database's ``PRAGMA user_version`` records the last applied migration. Each migration runs
in its own ``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash leaves
the database at a whole version. A database newer than this code is refused.
"""

from __future__ import annotations

from typing import Any

from actors.stores._errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    # 1: generic collections and the memory tables
    """
    CREATE TABLE records (
        collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
        created_at REAL NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (collection, id)
    ) WITHOUT ROWID;
    CREATE TABLE resources (
        id TEXT PRIMARY KEY, working_memory TEXT, metadata TEXT NOT NULL,
        created_at REAL NOT NULL, updated_at REAL NOT NULL
    );
    CREATE TABLE threads (
        id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, title TEXT NOT NULL,
        metadata TEXT NOT NULL, working_memory TEXT,
        created_at REAL NOT NULL, updated_at REAL NOT NULL
    );
    CREATE INDEX threads_by_resource ON threads (resource_id, created_at);
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        thread_id TEXT NOT NULL, resource_id TEXT, role TEXT NOT NULL, type TEXT NOT NULL,
        content TEXT NOT NULL, importance REAL NOT NULL, created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq);
    CREATE INDEX messages_by_resource ON messages (resource_id, created_at);
    """,
    # 2: workflow runs and their snapshots
    """
    CREATE TABLE workflow_runs (
        workflow_name TEXT NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL,
        snapshot TEXT NOT NULL, resource_id TEXT,
        created_at REAL NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (workflow_name, run_id)
    );
    CREATE INDEX workflow_runs_by_created ON workflow_runs (created_at);
    CREATE INDEX workflow_runs_by_status ON workflow_runs (status, created_at);
    """,
    # 3: vector indexes; vectors are kept here too, the usearch files are derived from them
    """
    CREATE TABLE vector_indexes (
        name TEXT PRIMARY KEY, dimension INTEGER NOT NULL, metric TEXT NOT NULL,
        next_key INTEGER NOT NULL, seq INTEGER NOT NULL, created_at REAL NOT NULL
    );
    CREATE TABLE vectors (
        index_name TEXT NOT NULL, id TEXT NOT NULL, key INTEGER NOT NULL,
        vector BLOB NOT NULL, metadata TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (index_name, id)
    );
    CREATE UNIQUE INDEX vectors_by_key ON vectors (index_name, key);
    """,
    # 4: messages without AUTOINCREMENT: every commit of messages then skips the update of
    # sqlite_sequence (about a quarter of its cost). seq still only grows while the newest
    # message exists, and it only breaks ties of created_at.
    """
    CREATE TABLE messages_v4 (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        thread_id TEXT NOT NULL, resource_id TEXT, role TEXT NOT NULL, type TEXT NOT NULL,
        content TEXT NOT NULL, importance REAL NOT NULL, created_at REAL NOT NULL
    );
    INSERT INTO messages_v4 (seq, id, thread_id, resource_id, role, type, content, importance,
                             created_at)
        SELECT seq, id, thread_id, resource_id, role, type, content, importance, created_at
        FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v4 RENAME TO messages;
    DELETE FROM sqlite_sequence WHERE name = 'messages';
    CREATE INDEX messages_by_thread ON messages (thread_id, created_at, seq);
    CREATE INDEX messages_by_resource ON messages (resource_id, created_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Apply the missing migrations on an apsw connection; return the resulting version.

    Raises ``StoreError`` when the database was written by a newer schema. A failing
    migration is rolled back whole and its error propagates.
    """
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this code's {SCHEMA_VERSION}"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _user_version(conn) < number:  # another connection may have migrated meanwhile
                conn.execute(MIGRATIONS[number - 1])
                conn.execute(f"PRAGMA user_version = {number}")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return _user_version(conn)


def _user_version(conn: Any) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])
