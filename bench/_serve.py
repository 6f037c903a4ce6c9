"""Start the runtime's own server in a subprocess, as users run it, for HTTP benchmarks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "start_runtime", "stop_runtime"]

ROOT = Path(__file__).resolve().parents[1]
_SERVING = re.compile(r"serving HTTP on (http://\S+)")


def start_runtime(data: str) -> tuple[subprocess.Popen[str], str]:
    """``python -m runtime serve config/default.toml`` on a free port with its data under
    ``data``; returns the process and its URL once it serves. Raises ``RuntimeError`` when
    it exits before serving."""
    env = {**os.environ, "MASTRA_PORT": "0", "MASTRA_DATA": data, "MASTRA_LOGGING__LEVEL": "INFO"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", str(ROOT / "config" / "default.toml")],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        match = _SERVING.search(line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("the runtime did not start")


def stop_runtime(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then wait (at most 30 s) for the graceful stop."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
