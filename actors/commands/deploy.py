"""``mastra deploy --config CONFIG --out DIR``: a Dockerfile and a systemd unit for the app.

The project is the nearest directory at or above the config holding ``pyproject.toml`` (or
``--project``); it must have a ``uv.lock``, because both targets install exactly the locked
dependencies with uv. The config must declare an HTTP server actor
(``factory = "actors.server:Server"``): its port is exposed and its ``/health`` route is the
container's health check. Written files (``Dockerfile``, ``Dockerfile.dockerignore``,
``mastra-<name>.service``) are never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import math
import os
import pkgutil
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from actors.commands._common import UsageError, command_parser, run_command
from actors.server import Server, ServerConfig
from runtime import RuntimeConfig, load_config

__all__ = ["App", "dockerfile", "main", "systemd_unit"]

EXAMPLES = [
    "mastra deploy --config config/default.toml --out deploy",
    "mastra deploy --config config.toml --out deploy --name shop --install-dir /srv/shop "
    "--user shop --force",
]
CONTAINER_ENV = {"MASTRA_HOST": "0.0.0.0", "MASTRA_DATA": "/app/data"}
STOP_MARGIN = 5.0
"""Seconds a service manager waits beyond the longest grace period before killing."""
_LOOPBACK = ("127.", "localhost", "::1")


@dataclass(frozen=True)
class App:
    """What the deployment files describe."""

    name: str
    project: Path
    config: str  # relative to the project, POSIX form
    server: ServerConfig
    stop_timeout: int

    @property
    def unit_name(self) -> str:
        """``mastra-<name>.service`` (no doubled ``mastra-`` prefix)."""
        base = self.name if self.name.startswith("mastra-") else f"mastra-{self.name}"
        return f"{base}.service"


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "deploy",
        "Write a Dockerfile (python:3.11-slim, dependencies from uv.lock, health check on "
        "/health) and a systemd unit (restart on failure, stop with SIGTERM) that serve the "
        "config. Existing files are kept unless --force.",
        EXAMPLES,
    )
    parser.add_argument("--config", required=True, help="path of the TOML configuration file")
    parser.add_argument("--out", required=True, help="directory to write the files to")
    parser.add_argument("--name", help="app name (default: the project name in pyproject.toml)")
    parser.add_argument("--project", help="project root (default: found from the config)")
    parser.add_argument(
        "--install-dir", help="where the project lives on the host (default: its current path)"
    )
    parser.add_argument("--user", help="system user the service runs as (default: root)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    return parser


def _project_root(config: Path, given: str | None) -> Path:
    if given is not None:
        root = Path(given).resolve()
        if not (root / "pyproject.toml").is_file():
            raise UsageError(f"--project: no pyproject.toml in {root}")
        return root
    for candidate in [config.parent, *config.parent.parents]:
        if (candidate / "pyproject.toml").is_file():
            return candidate
    raise UsageError(f"no pyproject.toml at or above {config.parent}; pass --project")


def _app_name(root: Path, given: str | None) -> str:
    name = given
    if name is None:
        try:
            name = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]["name"]
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
            name = root.name
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not slug:
        raise UsageError(f"--name: {name!r} has no letters or digits to name the service with")
    return slug


def _server(config: RuntimeConfig) -> ServerConfig:
    for index, actor in enumerate(config.actors):
        try:
            factory = pkgutil.resolve_name(actor.factory)
        except Exception:  # import problems are for `mastra build` to report
            continue
        if isinstance(factory, type) and issubclass(factory, Server):
            try:
                return msgspec.convert(actor.options, ServerConfig, strict=False)
            except msgspec.ValidationError as exc:
                raise UsageError(f"$.actors[{index}].options: {exc}") from None
    raise UsageError(
        'the config declares no HTTP server actor (factory = "actors.server:Server"); '
        "there is nothing to serve"
    )


def load_app(args: argparse.Namespace) -> App:
    """Resolve the project, the config and its server; raises ``UsageError`` or
    ``ConfigError`` naming what is missing or wrong."""
    config_path = Path(args.config).resolve()
    root = _project_root(config_path, args.project)
    if not (root / "uv.lock").is_file():
        raise UsageError(f"no uv.lock in {root}: run `uv lock` there first")
    try:
        relative = config_path.relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"the config {config_path} is outside the project {root}") from None
    config = load_config(config_path, env={**os.environ, **CONTAINER_ENV})
    server = _server(config)
    if server.host.startswith(_LOOPBACK):
        print(
            f"mastra deploy: warning: the server binds {server.host}, which is unreachable from "
            'outside a container; use host = "${MASTRA_HOST:-127.0.0.1}" in the config',
            file=sys.stderr,
        )
    longest = max(server.grace, config.runtime.supervision.grace)
    stop = math.ceil(longest + STOP_MARGIN)
    return App(_app_name(root, args.name), root, relative, server, stop)


def dockerfile(app: App, out: str) -> str:
    """The Dockerfile text; ``out`` is where it is written, relative to the project."""
    port = app.server.port
    health = f"http://127.0.0.1:{port}/health"
    probe = (
        "import sys, urllib.request; "
        f"sys.exit(urllib.request.urlopen('{health}', timeout=4).status != 200)"
    )
    return f"""\
# {app.name}: serves {app.config} (written by `mastra deploy`).
# Build from the project root:  docker build -f {out}/Dockerfile -t {app.name} .
# Run:   docker run -p {port}:{port} -v {app.name}-data:/app/data {app.name}
# Stop:  docker stop -t {app.stop_timeout} CONTAINER   (SIGTERM, then in-flight work finishes)
# API keys come from the environment: docker run -e OPENAI_API_KEY=... or --env-file.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:latest /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH" MASTRA_HOST=0.0.0.0 MASTRA_PORT={port} MASTRA_DATA=/app/data
VOLUME ["/app/data"]
EXPOSE {port}
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \\
  CMD ["python", "-c", "{probe}"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "runtime", "serve", "{app.config}"]
"""


DOCKERIGNORE = """\
.git
.venv
data
**/__pycache__
.pytest_cache
.mypy_cache
.ruff_cache
"""


def systemd_unit(app: App, install_dir: str, user: str | None) -> str:
    """The systemd unit text for the project installed at ``install_dir``."""
    user_line = f"User={user}\n" if user else ""
    return f"""\
# {app.unit_name}: serves {app.config} (written by `mastra deploy`).
# Install: put the project in {install_dir}, run `uv sync --frozen --no-dev` there, then
#   sudo cp {app.unit_name} /etc/systemd/system/ && sudo systemctl daemon-reload
#   sudo systemctl enable --now {app.unit_name}
# API keys: put KEY=value lines in /etc/mastra/{app.name}.env
[Unit]
Description=Mastra runtime: {app.name}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
{user_line}WorkingDirectory={install_dir}
EnvironmentFile=-/etc/mastra/{app.name}.env
Environment=PYTHONUNBUFFERED=1
ExecStart={install_dir}/.venv/bin/python -m runtime serve {app.config}
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec={app.stop_timeout}

[Install]
WantedBy=multi-user.target
"""


def _deploy(args: argparse.Namespace) -> int:
    app = load_app(args)
    out = Path(args.out).resolve()
    try:
        shown = out.relative_to(app.project).as_posix()
    except ValueError:
        shown = str(out)
    install_dir = args.install_dir or str(app.project)
    files = {
        out / "Dockerfile": dockerfile(app, shown),
        out / "Dockerfile.dockerignore": DOCKERIGNORE,
        out / app.unit_name: systemd_unit(app, install_dir, args.user),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing and not args.force:
        raise UsageError(f"refusing to overwrite {', '.join(existing)} (pass --force)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {out}: {exc.strerror}") from None
    for path in files:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``mastra deploy``; returns the exit code (0 written, 2 usage or config error)."""
    return run_command("deploy", _parser(), argv, _deploy)


if __name__ == "__main__":
    sys.exit(main())
