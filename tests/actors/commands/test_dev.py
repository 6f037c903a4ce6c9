"""``mastra dev``: reload on edits of the config and of Python modules, keep the running
runtime on a bad edit, stop cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import trio

from actors.commands._common import load_app_config
from actors.commands._watch import Watcher, forget_modules, scan
from actors.commands.dev import Reloader
from runtime import ActorStopped

from .conftest import ROOT

MODULE = """
from runtime import Actor

VERSION = {version}
FAIL = {fail}


class Greeter(Actor):
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    async def on_start(self) -> None:
        if FAIL:
            raise RuntimeError("greeter refuses to start")

    async def receive(self, msg: object) -> str:
        return f"{{self.greeting}} v{{VERSION}}"
"""

CONFIG = """
[logging]
level = "WARNING"

[runtime.supervision]
max_restarts = 0

[[actors]]
name = "greeter"
factory = "{module}:Greeter"
options = {{ greeting = "{greeting}" }}
"""


async def _greeting(reloader: Reloader) -> str | None:
    current = reloader.current
    rt = None if current is None else current.rt
    ref = None if rt is None else rt.lookup("greeter")
    if ref is None:
        return None
    try:
        answer: str = await ref.ask("hello?")
    except ActorStopped:  # asked the runtime a reload is replacing
        return None
    return answer


async def _until(reloader: Reloader, expected: str | None) -> None:
    with trio.fail_after(10):
        while await _greeting(reloader) != expected:
            await trio.sleep(0.01)


class App:
    """A module and a config in ``tmp_path`` that the test edits."""

    def __init__(self, tmp_path: Path) -> None:
        self.module = f"devapp_{uuid.uuid4().hex[:10]}"
        self.source = trio.Path(tmp_path / f"{self.module}.py")
        self.config = trio.Path(tmp_path / "app.toml")

    async def write(self, *, version: int = 1, fail: bool = False, greeting: str = "hi") -> None:
        await self.source.write_text(MODULE.format(version=version, fail=fail))
        await self.config.write_text(CONFIG.format(module=self.module, greeting=greeting))

    async def serve(self, nursery: trio.Nursery) -> Reloader:
        """Start the app's runtime and watch its files (every 10 ms) in ``nursery``."""
        config = await trio.to_thread.run_sync(load_app_config, str(self.config))
        watcher = Watcher(Path(self.config), [])
        await watcher.prime()
        reloader = Reloader(nursery, str(self.config), watcher)
        await reloader.start(config)
        nursery.start_soon(reloader.watch, 0.01)
        return reloader


async def test_reload_swaps_the_runtime_and_keeps_it_on_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = App(tmp_path)
    await app.write()
    async with trio.open_nursery() as nursery:
        reloader = await app.serve(nursery)
        assert await _greeting(reloader) == "hi v1"
        await app.source.write_text(MODULE.format(version=22, fail=False))
        await _until(reloader, "hi v22")  # the edited module was imported again
        running = reloader.current
        await app.config.write_text('[[actors]]\nname = "greeter"\nfactory = 3\n')
        with trio.fail_after(10):
            while "keeps running" not in (err := capsys.readouterr().err):
                await trio.sleep(0.01)
        assert err.startswith("mastra dev: Expected `str`, got `int` - at `$.actors[0].factory`")
        assert reloader.current is running
        assert await _greeting(reloader) == "hi v22"
        await app.write(version=22, greeting="hello")
        await _until(reloader, "hello v22")
        await reloader.stop()
        assert reloader.current is None
        nursery.cancel_scope.cancel()


async def test_a_runtime_that_fails_to_start_is_retried_after_the_next_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = App(tmp_path)
    await app.write()
    async with trio.open_nursery() as nursery:
        reloader = await app.serve(nursery)
        await app.write(version=2, fail=True)
        with trio.fail_after(10):
            while "did not start" not in (err := capsys.readouterr().err):
                await trio.sleep(0.01)
        assert "greeter refuses to start" in err
        assert reloader.current is None
        await app.write(version=3)
        await _until(reloader, "hi v3")
        await reloader.stop()
        nursery.cancel_scope.cancel()


def test_scan_sees_python_files_and_skips_caches(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for name in ["pkg/a.py", "pkg/__pycache__/a.py", ".hidden/b.py", "pkg/notes.txt"]:
        (tmp_path / name).write_text("x = 1\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text("", encoding="utf-8")
    found = scan([config], [tmp_path])
    assert sorted(found) == [str(config), str(tmp_path / "pkg" / "a.py")]


def test_forget_modules_keeps_the_running_command_line(tmp_path: Path) -> None:
    gone = forget_modules([ROOT / "actors" / "commands", tmp_path])
    assert gone == []  # the command line itself is never re-imported
    assert "actors.commands.dev" in sys.modules


SERVED = """
[logging]
level = "INFO"

[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:SqliteStore"
options = {{ path = "{data}/mastra.db" }}
{extra}
[[actors]]
name = "server"
factory = "actors.server:Server"
options = {{ port = 0 }}
"""

AGENT = """
[[actors]]
name = "scripted"
kind = "provider"
factory = "actors.llm:configured_provider"
options = { type = "scripted", builtin = "echo" }

[[actors]]
name = "echo"
kind = "agent"
factory = "actors.demo.agent:echo"
"""
_SERVING = re.compile(r"serving HTTP on (http://\S+)")


def _next_url(proc: subprocess.Popen[str], lines: list[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if match := _SERVING.search(line):
            return match.group(1)
    raise AssertionError("no server came up:\n" + "".join(lines))


@pytest.mark.slow
def test_dev_process_reloads_an_edited_config_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "app.toml"
    config.write_text(SERVED.format(data=tmp_path, extra=""), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "actors.commands.dev", str(config), "--interval", "0.1"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        first = _next_url(proc, lines)
        assert httpx.get(f"{first}/api/agents").json() == {}
        config.write_text(SERVED.format(data=tmp_path, extra=AGENT), encoding="utf-8")
        second = _next_url(proc, lines)
        assert "echo" in httpx.get(f"{second}/api/agents").json()
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "changed: " in log
    assert "received SIGTERM; stopping" in log
    assert "Traceback" not in log
