"""Start ``python -m runtime serve CONFIG`` as a real process and find its HTTP address."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_SERVING = re.compile(r"serving HTTP on (http://\S+)")


@contextmanager
def serve_process(
    config: Path, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """Yield the process, its base URL and the log lines read so far; SIGTERM on exit."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "MASTRA_PORT": "0", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", str(config)],
        cwd=cwd,
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise AssertionError("server exited early:\n" + "".join(lines))
            lines.append(line)
            match = _SERVING.search(line)
            url = match.group(1) if match else None
        assert url is not None, "".join(lines)
        yield proc, url, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
        lines.append(rest)
