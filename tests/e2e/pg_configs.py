"""Pieces of the configs that serve the demo on a shared Postgres, for the multi-process
tests and ``bench.scaleout``: join them with ``+``."""

from __future__ import annotations

__all__ = ["DEMO_AGENT", "PG_STORE", "PG_VECTORS", "QUIET", "SERVER"]

QUIET = """
[telemetry]
enabled = false
"""

PG_STORE = """
[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:PostgresStore"
options = { url = "${DATABASE_URL}" }
"""

PG_VECTORS = """
[[actors]]
name = "default"
kind = "store"
factory = "actors.stores:PgVectorStore"
options = { url = "${DATABASE_URL}", max_connections = 2 }
"""

DEMO_AGENT = """
[[actors]]
name = "scripted"
kind = "provider"
factory = "actors.llm:configured_provider"
options = { type = "scripted", builtin = "echo" }

[[actors]]
name = "add"
factory = "actors.demo.agent:add"

[[actors]]
name = "echo"
kind = "agent"
factory = "actors.demo.agent:echo"
"""

SERVER = """
[[actors]]
name = "server"
factory = "actors.server:Server"
options = { host = "127.0.0.1", port = "${MASTRA_PORT:-0}" }
"""
