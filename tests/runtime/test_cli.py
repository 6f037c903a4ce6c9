from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert "mastra-runtime" in capsys.readouterr().out
    assert main(["help"]) == 0
    listing = capsys.readouterr().out
    assert "serve CONFIG" in listing
    assert re.search(r"^  build +check a configuration", listing, re.M)  # a plugin command
    assert main(["serve", "--help"]) == 0
    assert main([]) == 0


@pytest.mark.parametrize("flag", ["-v", "--version"])
def test_version_flags(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([flag]) == 0
    assert re.fullmatch(r"mastra-runtime \d+\.\d+\.\d+\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", ["serve", "build", "chat", "deploy", "dev", "init", "run"])
def test_every_commands_help_ends_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    help_text = capsys.readouterr().out
    examples = help_text.split("examples:\n", 1)[1]
    assert examples.lstrip().startswith(f"mastra {command}") or f"mastra {command}" in examples


def test_unknown_command_and_bad_config_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err
    for command in ("serve", "version", "help", "build", "chat", "deploy", "dev", "init", "run"):
        assert re.search(rf"^  {command}\b", err, re.M), command  # the whole list, not three
    bad = tmp_path / "bad.toml"
    bad.write_text('[telemetry]\nsampling = "often"\n', encoding="utf-8")
    assert main(["serve", str(bad)]) == 2
    assert "$.telemetry.sampling" in capsys.readouterr().err
    assert main(["serve"]) == 2


def test_serve_runs_configured_actors_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "app.toml"
    config.write_text(
        '[logging]\nformat = "json"\n\n'
        '[[actors]]\nname = "probe"\nfactory = "tests.runtime.test_cli:LoggingActor"\n'
        'options = { greeting = "hello from config" }\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", str(config)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "runtime up" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=20)
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert "hello from config" in output
    assert '"actor":"probe"' in output
    assert "stopping" in output and "runtime stopped" in output


from runtime import Actor  # noqa: E402


class LoggingActor(Actor):
    """Logs its configured greeting at start; used by the serve test above."""

    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    async def on_start(self) -> None:
        self.ctx.logger.info(self.greeting)

    async def receive(self, msg: object) -> None:
        return None
