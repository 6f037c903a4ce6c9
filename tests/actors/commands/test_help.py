"""Every command: ``--help`` with examples, exit 2 with ``mastra <cmd>: ...`` for mistakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from actors.commands import chat, deploy, dev, init, run

COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "chat": chat.main,
    "deploy": deploy.main,
    "dev": dev.main,
    "init": init.main,
    "run": run.main,
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_describes_the_command_with_examples(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert COMMANDS[name](["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mastra {name}")
    assert "examples:\n  mastra " in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unknown_flag_exits_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert COMMANDS[name](["--no-such-flag"]) == 2
    assert f"mastra {name}: error:" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["chat", "run"])
def test_a_bad_config_exits_2_naming_the_path(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[actors]]\nname = "x"\nfactory = 3\n', encoding="utf-8")
    assert COMMANDS[name](["x", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mastra {name}: ")
    assert "$.actors[0].factory" in err
    assert "Traceback" not in err


def test_dev_reports_a_missing_config_and_a_bad_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev.main([str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err.startswith("mastra dev: cannot read config file")
    assert dev.main([str(tmp_path / "missing.toml"), "--interval", "0"]) == 2
    assert "mastra dev: --interval: must be a positive" in capsys.readouterr().err


def test_unimportable_factories_are_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "app.toml"
    config.write_text(
        '[[actors]]\nname = "a"\nfactory = "no_such_module_here:thing"\n', encoding="utf-8"
    )
    assert dev.main([str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mastra dev: $.actors[0].factory: cannot import")
