"""``mastra init``: the scaffold builds, and its own tests pass in a pytest process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from actors.commands.build import main as build_main
from actors.commands.chat import main as chat_main
from actors.commands.init import main, package_name

from .conftest import ROOT


@pytest.mark.slow
def test_the_scaffold_builds_and_its_tests_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "weather_desk"
    assert main([str(project)]) == 0
    assert (project / "weather_desk" / "agents.py").is_file()
    assert (project / "tests" / "test_weather_desk.py").is_file()
    config = tomllib.loads((project / "config.toml").read_text(encoding="utf-8"))
    assert {a["name"] for a in config["actors"]} >= {"assistant", "temperature-report"}
    monkeypatch.syspath_prepend(str(project))
    assert build_main([str(project / "config.toml")]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_scaffold_depends_on_the_runtime_it_was_made_by(tmp_path: Path) -> None:
    project = tmp_path / "deps"
    assert main([str(project)]) == 0
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    (dependency,) = pyproject["project"]["dependencies"]
    requirement = Requirement(dependency)
    assert requirement.name == "mastra-runtime"
    assert requirement.url == ROOT.resolve().as_uri()  # this checkout: installable as it is
    source = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert source["project"]["name"] == requirement.name


def test_the_scaffold_agent_chats_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "chatty"
    assert main([str(project)]) == 0
    monkeypatch.setenv("MASTRA_DATA", str(tmp_path / "data"))
    out = io.StringIO()
    args = ["assistant", "--config", str(project / "config.toml")]
    assert chat_main(args, stdin=io.StringIO("convert 100\n"), stdout=out) == 0
    assert out.getvalue() == "100 °C is 212.0 °F.\n"


def test_a_non_empty_directory_is_refused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "busy"
    project.mkdir()
    (project / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([str(project)]) == 2
    assert capsys.readouterr().err == (
        f"mastra init: {project} is not empty (pass --force to write into it anyway)\n"
    )
    assert not (project / "config.toml").exists()
    assert main([str(project), "--force"]) == 0
    assert (project / "config.toml").is_file()
    assert (project / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_file_in_the_way_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    assert main([str(path), "--package", "fine"]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def test_package_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert package_name(Path("My Cool-App"), None) == "my_cool_app"
    assert package_name(Path("2048"), None) == "app_2048"
    assert package_name(Path("x"), "custom") == "custom"
    assert main([str(tmp_path / "json")]) == 2
    assert "'json' would shadow an existing package" in capsys.readouterr().err
    assert main([str(tmp_path / "ok"), "--package", "not-valid"]) == 2
    assert "'not-valid' is not a valid Python package name" in capsys.readouterr().err
