from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = [sys.executable, "-m", "tests.actors.mcp.fixture_server"]
"""The command line of the SDK-written fixture server (stdio)."""
