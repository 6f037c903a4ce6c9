"""``mastra deploy``: a Dockerfile and a systemd unit that match the config."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from actors.commands.deploy import main

from .conftest import ROOT

CONFIG = """
[runtime.supervision]
grace = 3.0

[[actors]]
name = "store"
kind = "store"
factory = "actors.stores:SqliteStore"
options = {{ path = "${{MASTRA_DATA:-data}}/mastra.db" }}

[[actors]]
name = "server"
factory = "actors.server:Server"
options = {{ host = "{host}", port = 8080, grace = 20.0 }}
"""


def _project(tmp_path: Path, host: str = "${MASTRA_HOST:-127.0.0.1}") -> Path:
    project = tmp_path / "shop"
    (project / "config").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "Shop API"\n', encoding="utf-8")
    (project / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    (project / "config" / "app.toml").write_text(CONFIG.format(host=host), encoding="utf-8")
    return project


def test_writes_a_dockerfile_and_a_unit_for_the_configured_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    out = project / "deploy"
    assert main(["--config", str(project / "config" / "app.toml"), "--out", str(out)]) == 0
    docker = (out / "Dockerfile").read_text(encoding="utf-8")
    assert docker.startswith("# shop-api: serves config/app.toml")
    assert "\nFROM python:3.11-slim\n" in docker
    assert "COPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-dev" in docker
    assert "\nEXPOSE 8080\n" in docker
    assert "http://127.0.0.1:8080/health" in docker
    assert "docker build -f deploy/Dockerfile -t shop-api ." in docker
    assert docker.endswith('CMD ["python", "-m", "runtime", "serve", "config/app.toml"]\n')
    assert ".venv" in (out / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    unit = (out / "mastra-shop-api.service").read_text(encoding="utf-8")
    assert f"\nWorkingDirectory={project}\n" in unit
    assert f"\nExecStart={project}/.venv/bin/python -m runtime serve config/app.toml\n" in unit
    assert "\nRestart=on-failure\n" in unit
    assert "\nKillSignal=SIGTERM\n" in unit
    timeout = int(re.search(r"\nTimeoutStopSec=(\d+)\n", unit).group(1))  # type: ignore[union-attr]
    assert 20 < timeout <= 30  # above the server's grace of 20 s
    assert capsys.readouterr().err == ""


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    args = ["--config", str(project / "config" / "app.toml"), "--out", str(project / "d")]
    assert main(args) == 0
    (project / "d" / "Dockerfile").write_text("edited", encoding="utf-8")
    assert main(args) == 2
    assert "mastra deploy: refusing to overwrite" in capsys.readouterr().err
    assert (project / "d" / "Dockerfile").read_text(encoding="utf-8") == "edited"
    assert main([*args, "--force", "--name", "shop", "--user", "shop"]) == 0
    assert (project / "d" / "Dockerfile").read_text(encoding="utf-8").startswith("# shop:")
    assert "\nUser=shop\n" in (project / "d" / "mastra-shop.service").read_text(encoding="utf-8")


def test_a_loopback_only_server_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, host="127.0.0.1")
    assert main(["--config", str(project / "config" / "app.toml"), "--out", str(tmp_path)]) == 0
    assert "warning: the server binds 127.0.0.1" in capsys.readouterr().err


def test_missing_pieces_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    config = str(project / "config" / "app.toml")
    (project / "uv.lock").unlink()
    assert main(["--config", config, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"mastra deploy: no uv.lock in {project}: run `uv lock` there first\n"
    (project / "uv.lock").write_text("", encoding="utf-8")
    lonely = tmp_path / "lonely.toml"
    shutil.copy(config, lonely)
    args = ["--config", str(lonely), "--out", str(tmp_path / "o"), "--project", str(project)]
    assert main(args) == 2
    assert "is outside the project" in capsys.readouterr().err
    (project / "config" / "app.toml").write_text('[[actors]]\nname = "a"\nfactory = "x:y"\n')
    assert main(["--config", config, "--out", str(tmp_path / "o")]) == 2
    assert "declares no HTTP server actor" in capsys.readouterr().err


def test_the_default_config_of_this_project(tmp_path: Path) -> None:
    assert main(["--config", str(ROOT / "config" / "default.toml"), "--out", str(tmp_path)]) == 0
    docker = (tmp_path / "Dockerfile").read_text(encoding="utf-8")
    assert "\nEXPOSE 4111\n" in docker
    assert "MASTRA_HOST=0.0.0.0" in docker
    assert (tmp_path / "mastra-runtime.service").is_file()
