"""Fixtures of the command tests: the default config copied to a temporary directory, and
the process-wide state the commands change (logging, ``sys.path``) put back afterwards."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _restore_process_state() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = list(sys.path)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.path[:] = path


@pytest.fixture
def default_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``config/default.toml`` copied to ``tmp_path``, its data under ``tmp_path/data``."""
    config = tmp_path / "default.toml"
    shutil.copy(ROOT / "config" / "default.toml", config)
    monkeypatch.setenv("MASTRA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MASTRA_PORT", "0")
    return config
