"""The real server process: ``python -m runtime serve CONFIG`` driven over loopback HTTP."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import msgspec
import pytest
import trio

from actors.commands.build import main as build_main
from tests.e2e.serve import ROOT, STORES_TOML, open_served

CONFIG = (
    """
[telemetry]
enabled = false

[logging]
level = "INFO"

"""
    + STORES_TOML
    + """

[[actors]]
name = "three-step"
factory = "actors.demo.workflows:three_step_app"

[[actors]]
name = "approval"
factory = "actors.demo.workflows:approval_app"

[[actors]]
name = "server"
factory = "actors.server:Server"
options = {{ host = "127.0.0.1", port = 0 }}
"""
)


async def _drive(http: httpx.AsyncClient) -> None:
    created = await http.post("/api/workflows/approval/create-run", json={})
    run_id = created.json()["runId"]
    started = await http.post(
        f"/api/workflows/approval/start-async?runId={run_id}",
        json={"inputData": {"item": "invoice-7"}},
    )
    assert started.json()["status"] == "suspended"
    resumed = await http.post(
        f"/api/workflows/approval/resume-async?runId={run_id}",
        json={"step": "request-approval", "resumeData": {"approved": True, "approver": "ann"}},
    )
    assert resumed.json()["result"] == {"status": "invoice-7 approved by ann"}
    run = (await http.get(f"/api/workflows/approval/runs/{run_id}")).json()
    assert run["status"] == "success"
    streamed = await http.post("/api/workflows/three-step/stream", json={"inputData": {"value": 2}})
    records = [msgspec.json.decode(r) for r in streamed.content.split(b"\x1e") if r]
    assert records[0]["type"] == "workflow-start"
    assert records[-1]["payload"]["finalWorkflowResult"]["message"] == "result=6"
    vector = "/api/vector/default"
    index = {"indexName": "docs", "dimension": 3, "metric": "cosine"}
    assert (await http.post(f"{vector}/create-index", json=index)).json() == {"success": True}
    upsert: dict[str, object] = {"indexName": "docs", "ids": ["a", "b"]}
    upsert["vectors"] = [[1, 0, 0], [0, 1, 0]]
    upsert["metadata"] = [{"label": "x"}, {"label": "y"}]
    assert (await http.post(f"{vector}/upsert", json=upsert)).json() == {"ids": ["a", "b"]}
    query = {"indexName": "docs", "queryVector": [0, 1, 0], "topK": 1}
    hits = (await http.post(f"{vector}/query", json=query)).json()
    assert [(h["id"], h["metadata"]) for h in hits] == [("b", {"label": "y"})]


async def test_served_process_runs_workflow_and_vectors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "app.toml"
    config.write_text(CONFIG.format(data=data.as_posix()))
    async with open_served(config, ROOT) as served:
        async with httpx.AsyncClient(base_url=served.url) as http:
            await _drive(http)
        served.process.send_signal(signal.SIGTERM)
        with trio.fail_after(20):
            code = await served.process.wait()
    assert code == 0, served.text()


def test_build_accepts_a_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "app.toml"
    config.write_text(CONFIG.format(data=tmp_path.as_posix()))
    assert build_main([str(config)]) == 0
    assert "ok (5 actors)" in capsys.readouterr().out


BROKEN = """
[[actors]]
name = "a"
factory = "actors.demo.workflows:no_such_thing"

[[actors]]
name = "a"
factory = "actors.stores:SqliteStore"
options = { path = "x.db", colour = "red" }

[[actors]]
name = "flow"
factory = "actors.demo.workflows:approval_app"
options = { store = "store" }

[[actors]]
name = "b"
factory = "no_colon"

[[actors]]
name = "c"
factory = "actors.demo.workflows:__doc__"
"""


def test_build_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(BROKEN)
    assert build_main([str(config)]) == 1
    err = capsys.readouterr().err
    assert "$.actors[0].factory: cannot import 'actors.demo.workflows:no_such_thing'" in err
    assert "$.actors[1].name: actor 'a' is already named at $.actors[0]" in err
    assert "$.actors[1].options:" in err and "colour" in err
    assert "$.actors[2].options: 'actors.demo.workflows:approval_app' is a declarative spec" in err
    assert "$.actors[3].factory: expected 'module:attr'" in err
    assert "$.actors[4].factory: 'actors.demo.workflows:__doc__' is neither" in err
    assert "6 problem(s)" in err


def test_build_rejects_an_unreadable_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build_main([str(tmp_path / "missing.toml")]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[[actors]]\nname = 3\nfactory = "x:y"\n')
    assert build_main([str(bad)]) == 2
    assert "$.actors[0].name" in capsys.readouterr().err
