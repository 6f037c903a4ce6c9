"""The approval example across real process restarts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import trio

ROOT = Path(__file__).resolve().parents[2]


async def _run(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "examples.approval", *args]
    done = await trio.run_process(command, cwd=ROOT, capture_stdout=True, capture_stderr=True)
    body: dict[str, Any] = msgspec.json.decode(done.stdout.splitlines()[-1])
    return body


async def test_approval_resumes_in_a_new_process(tmp_path: Path) -> None:
    db = str(tmp_path / "approval.db")
    started = await _run("start", db, "invoice-7")
    assert started["status"] == "suspended"
    assert started["suspended"] == [["request-approval"]]
    assert started["suspendPayload"] == {
        "request-approval": {"reason": "approval required", "item": "invoice-7"}
    }
    run_id = started["runId"]
    shown = await _run("show", db, run_id)  # another process finds it still suspended
    assert shown["status"] == "suspended"
    done = await _run("approve", db, run_id, "ann")
    assert done["status"] == "success"
    assert done["result"] == {"status": "invoice-7 approved by ann"}
    assert done["steps"]["request-approval"]["resumePayload"] == {
        "approved": True,
        "approver": "ann",
    }
    assert done["stepExecutionPath"] == ["request-approval", "finalize"]
    command = [sys.executable, "-m", "examples.approval", "approve", db, run_id, "bob"]
    again = await trio.run_process(
        command, cwd=ROOT, capture_stdout=True, capture_stderr=True, check=False
    )
    assert again.returncode != 0
    assert b"This workflow run was not suspended" in again.stderr
