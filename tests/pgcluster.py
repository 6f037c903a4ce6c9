"""A throwaway Postgres cluster (with pgvector) for tests, from the binaries of the ``pgserver``
wheel: ``initdb`` into a temporary directory, then ``postgres`` on a free loopback port.

Postgres refuses to run as root; as root the cluster runs as an unprivileged user (the one
``pgserver`` itself creates), so the tests pass the same way on a developer's machine and in CI.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

__all__ = ["Cluster", "open_cluster"]

_USER = "pgserver"


def _install() -> Path:
    """Where the wheel keeps Postgres (found without importing ``pgserver``, whose import
    has side effects of its own)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver wheel is not installed (a dev dependency)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_user(root: Path) -> tuple[str | None, Path]:
    """The user the server runs as (None: ourselves) and the installation it runs from.

    As root, the server runs as an unprivileged user from a copy of the installation in
    ``root``, which that user can read without opening up the directories around it.
    """
    install = _install()
    if os.geteuid() != 0:
        return None, install
    try:
        pwd.getpwnam(_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", _USER], check=True, capture_output=True)
    # the wheel's binaries find their libraries at $ORIGIN/../../../pgserver.libs
    site = root / "site"
    copy = site / "pgserver" / "pginstall"
    for part in ("bin", "lib", "share"):
        shutil.copytree(install / part, copy / part, symlinks=True)
    shutil.copytree(install.parent.parent / "pgserver.libs", site / "pgserver.libs")
    for path in [site, *site.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
    return _USER, copy


class Cluster:
    """A running cluster: ``url(db)`` for connections, ``create_database()``, ``stop()`` /
    ``start()`` (same port and data) to test a database that goes away and comes back."""

    def __init__(self, root: Path, user: str | None, install: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.user = user
        self._bin = install / "bin"
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        """A connection URL for ``database`` over TCP on loopback."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """Create the data directory (``initdb``, trust auth, no fsync)."""
        self.data.mkdir()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [
                str(self._bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=self.user,
        )

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        args = [str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        args += ["-h", "127.0.0.1", "-k", "", "-c", "fsync=off", "-c", "max_connections=300"]
        args += ["-c", "full_page_writes=off", "-c", "synchronous_commit=off"]
        log = open(self.root / "log", "ab")  # noqa: SIM115 - the server owns it
        self._proc = subprocess.Popen(args, stdout=log, stderr=log, user=self.user)
        log.close()
        for _ in range(600):
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'log').read_text()[-2000:]}")
            with contextlib.suppress(psycopg.OperationalError):
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            subprocess.run(["sleep", "0.05"], check=True)
        raise RuntimeError("postgres did not start")

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # fast shutdown: clients are disconnected
            proc.wait(30)

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def open_cluster() -> Iterator[Cluster]:
    """A fresh cluster in a temporary directory, stopped and removed on exit."""
    root = Path(tempfile.mkdtemp(prefix="pgtest-"))
    root.chmod(0o755)
    cluster = Cluster(root, *_as_user(root))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
