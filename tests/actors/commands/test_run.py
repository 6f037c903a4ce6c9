"""``mastra run``: events as JSON lines while the run goes, the result last, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from actors.commands._common import UsageError
from actors.commands.run import EXIT_SUSPENDED, main, parse_json_option

from .conftest import ROOT


def _run(args: list[str]) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    code = main(args, stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_successful_run_prints_events_then_the_result(default_config: Path) -> None:
    code, lines = _run(["three-step", "--config", str(default_config), "--input", '{"value": 5}'])
    assert code == 0
    *events, result = lines
    assert [e["type"] for e in events] == [
        "workflow-start",
        *["workflow-step-start", "workflow-step-result"] * 3,
        "workflow-finish",
    ]
    assert [e["payload"]["stepName"] for e in events[1:-1:2]] == ["add-one", "double", "format"]
    assert events[-1]["payload"]["workflowStatus"] == "success"
    assert result["status"] == "success"
    assert result["result"] == {"value": 12.0, "message": "result=12"}
    assert {e["runId"] for e in events} == {result["runId"]}


def test_input_failing_the_schema_exits_2_naming_the_field(
    default_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _run(["three-step", "--config", str(default_config), "--input", '{"value": "x"}'])
    assert (code, lines) == (2, [])
    err = capsys.readouterr().err
    assert (
        err == "mastra run: workflow: invalid input data at `value`: Expected `float`, got `str`\n"
    )


def test_bad_json_and_unknown_names_exit_2(
    default_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["three-step", "--config", str(default_config), "--input", "{"])[0] == 2
    assert capsys.readouterr().err.startswith("mastra run: --input: invalid JSON:")
    assert _run(["nope", "--config", str(default_config)])[0] == 2
    assert capsys.readouterr().err == (
        "mastra run: unknown workflow 'nope' (known workflows: approval, three-step)\n"
    )
    assert _run(["approval", "--config", str(default_config), "--step", "x"])[0] == 2
    assert "--step: only valid with --resume" in capsys.readouterr().err
    args = ["approval", "--config", str(default_config), "--resume", "no-such-run"]
    assert _run(args)[0] == 2
    assert "mastra run: run no-such-run: Workflow run not found" in capsys.readouterr().err


def test_a_suspended_run_exits_3_and_resumes_in_a_later_command(
    default_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(default_config)
    code, lines = _run(["approval", "--config", config, "--input", '{"item": "laptop"}'])
    assert code == EXIT_SUSPENDED == 3
    assert "workflow-step-suspended" in [line.get("type") for line in lines]
    assert lines[-2]["payload"]["workflowStatus"] == "suspended"
    result = lines[-1]
    assert result["status"] == "suspended"
    assert result["suspended"] == [["request-approval"]]
    run_id = result["runId"]
    err = capsys.readouterr().err
    assert f"run {run_id} suspended at request-approval" in err
    assert f"--resume {run_id} --input RESUME_JSON" in err
    bad = ["approval", "--config", config, "--resume", run_id, "--input", '{"approved": "maybe"}']
    assert _run(bad)[0] == 2
    assert "invalid resume data at `approved`" in capsys.readouterr().err
    good = [*bad[:-1], '{"approved": true, "approver": "ann"}']
    code, lines = _run(good)
    assert code == 0
    assert lines[-1]["result"] == {"status": "laptop approved by ann"}


def test_input_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "input.json"
    source.write_text('{"value": 1}', encoding="utf-8")
    assert parse_json_option(f"@{source}") == {"value": 1}
    with pytest.raises(UsageError, match="--input: cannot read"):
        parse_json_option(f"@{tmp_path / 'missing.json'}")


@pytest.mark.slow
def test_run_as_a_process(default_config: Path) -> None:
    args = ["three-step", "--config", str(default_config), "--input", '{"value": 1}']
    done = subprocess.run(
        [sys.executable, "-m", "actors.commands.run", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 9
    assert lines[-1]["result"] == {"value": 4.0, "message": "result=4"}
