"""The quick start: the default configuration serves offline on a fresh checkout."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.serve import ROOT, serve_process


def test_default_config_serves_and_stops_cleanly(tmp_path: Path) -> None:
    config = ROOT / "config" / "default.toml"
    with serve_process(config, cwd=tmp_path) as (proc, url, lines):  # noqa: SIM117
        with httpx.Client(base_url=url) as client:
            assert client.get("/health").json() == {"success": True}
            assert "add" in client.get("/api/tools").json()
            added = client.post("/api/tools/add/execute", json={"data": {"a": 1, "b": 2}})
            assert added.json() == {"sum": 3}
    assert proc.returncode == 0, "".join(lines)
    assert (tmp_path / "data" / "mastra.db").exists()  # state lives under data/
    assert "runtime stopped" in "".join(lines)
