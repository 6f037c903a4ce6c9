"""Start ``python -m runtime serve CONFIG`` as a real process and find its HTTP address
(blocking, or under Trio with ``open_served``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parents[2]
_SERVING = re.compile(r"serving HTTP on (http://\S+)")

# The SQLite and vector store actors of a test config under ``{data}`` (a format string).
STORES_TOML = """
[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:SqliteStore"
options = {{ path = "{data}/mastra.db" }}

[[actors]]
name = "default"
kind = "store"
factory = "actors.stores:VectorStore"
options = {{ path = "{data}/vectors.db", index_dir = "{data}/indexes" }}
"""


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


@dataclass
class Served:
    """A running server process, its base URL and everything it logged so far."""

    process: trio.Process
    url: str
    log: bytearray

    def text(self) -> str:
        """The log as text."""
        return self.log.decode(errors="replace")


async def _drain(stream: trio.abc.ReceiveStream, log: bytearray, found: trio.Event) -> None:
    async for chunk in stream:
        log.extend(chunk)
        if not found.is_set() and _SERVING.search(log.decode(errors="replace")):
            found.set()


@asynccontextmanager
async def open_served(
    config: Path, cwd: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """Start ``serve CONFIG`` under Trio (with ``extra_env`` set); yield it once it listens;
    kill it if still alive on exit (a test that wants a clean stop sends SIGTERM and awaits
    ``process.wait()``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTRA_")}
    env |= {"PYTHONPATH": str(ROOT), **(extra_env or {})}
    command = [sys.executable, "-m", "runtime", "serve", str(config)]
    log = bytearray()
    found = trio.Event()
    async with trio.open_nursery() as nursery:
        process = await trio.lowlevel.open_process(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        nursery.start_soon(_drain, process.stderr, log, found)
        try:
            with trio.move_on_after(30):
                await found.wait()
            match = _SERVING.search(log.decode(errors="replace"))
            assert match is not None, log.decode(errors="replace")
            yield Served(process=process, url=match.group(1), log=log)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
