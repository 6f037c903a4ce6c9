"""The two servers ``bench.vs_mastra`` compares, each started as a process of its own.

The Mastra peer (``bench/mastra_peer``: a real Mastra v1 server with the same demo
components as ``config/default.toml``) is set up once in a cache outside the repository
(``$XDG_CACHE_HOME/mastra-runtime/mastra-peer-<hash>``, or ``MASTRA_PEER_CACHE``): Node 22
and the locked packages from the npm registry, through the peer's own ``setup.sh``. Both
servers keep their data in a directory the caller gives, and can be pinned to one CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PeerUnavailable",
    "Server",
    "peak_rss",
    "prepare_peer",
    "run_rate",
    "start_bare",
    "start_ours",
    "start_peer",
]

ROOT = Path(__file__).resolve().parents[1]
PEER_SOURCE = ROOT / "bench" / "mastra_peer"
PEER_FILES = ("package.json", "package-lock.json", "server.mjs", "setup.sh")
_SERVING = re.compile(r"serving HTTP on (http://\S+)")
_READY = ".ready"


class PeerUnavailable(Exception):
    """The Mastra peer cannot be set up or started here (no npm, no registry, ...)."""


@dataclass
class Server:
    """A server process, its base URL and the file its output goes to."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def peak_rss(pid: int) -> int:
    """The process's peak resident set size in bytes (``VmHWM``), 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _cache_dir() -> Path:
    digest = hashlib.sha256()
    for name in PEER_FILES:
        digest.update((PEER_SOURCE / name).read_bytes())
    base = os.environ.get("MASTRA_PEER_CACHE")
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "mastra-runtime")
    return Path(base) / f"mastra-peer-{digest.hexdigest()[:12]}"


def prepare_peer(timeout: float = 600.0) -> Path:
    """The peer's directory, installed (Node 22 and ``node_modules``) if it was not yet.

    Raises ``PeerUnavailable`` naming what is missing when npm or the registry cannot be
    reached; a failed setup leaves no ready marker, so the next call tries again.
    """
    target = _cache_dir()
    if (target / _READY).exists():
        return target
    if shutil.which("npm") is None:
        raise PeerUnavailable("npm not found: the Mastra peer needs npm (any Node >= 18)")
    target.mkdir(parents=True, exist_ok=True)
    for name in PEER_FILES:
        shutil.copy2(PEER_SOURCE / name, target / name)
    sys.stderr.write(f"vs_mastra: setting up the Mastra peer in {target} (one time)\n")
    try:
        done = subprocess.run(
            ["bash", "setup.sh"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PeerUnavailable(f"the peer's setup took over {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise PeerUnavailable(f"the peer's setup failed (npm registry unreachable?): {tail}")
    (target / _READY).write_text(done.stdout)
    return target


def _spawn(cpu: int | None, args: list[str], log: Path, **kw: Any) -> subprocess.Popen[bytes]:
    """Start ``args`` with its output in ``log``, on ``cpu`` only (None: anywhere).

    A child inherits the affinity of the thread that forks it, so this thread takes the
    child's affinity for the fork and its own back after (no ``preexec_fn``)."""
    mine = os.sched_getaffinity(0)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        with log.open("wb") as out:
            return subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, **kw
            )
    finally:
        os.sched_setaffinity(0, mine)


def run_rate(data: Path, cpu: int | None, seconds: float) -> float:
    """Durable ``three-step`` runs per CPU second with no HTTP (``bench._runs``), on
    ``cpu``."""
    log = data / "runs.log"
    proc = _spawn(cpu, [sys.executable, "-m", "bench._runs", str(seconds)], log, cwd=ROOT)
    if proc.wait(timeout=120 + seconds) != 0:
        raise RuntimeError(f"bench._runs failed:\n{log.read_text(errors='replace')[-2000:]}")
    last = log.read_text().strip().splitlines()[-1]
    rate: float = json.loads(last)["runs_per_cpu_s"]
    return rate


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_until(server: Server, ready: Callable[[], str | None], timeout: float) -> Server:
    """``server`` once ``ready()`` gives its URL; stopped and ``RuntimeError`` (with the end
    of its log) if it exits or takes longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = ready()
        if url:
            server.url = url
            return server
        if server.proc.poll() is not None:
            break
        time.sleep(0.1)
    server.stop()
    tail = "\n".join(server.log.read_text(errors="replace").splitlines()[-10:])
    raise RuntimeError(f"{server.name} did not start:\n{tail}")


def start_peer(peer: Path, data: Path, cpu: int | None, timeout: float = 60.0) -> Server:
    """Start the Mastra peer with its LibSQL files in ``data``; returns once ``/health``
    answers."""
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MASTRA_HOST": "127.0.0.1",
        "MASTRA_TELEMETRY_DISABLED": "1",
        "MASTRA_DB": f"file:{data / 'mastra.db'}",
        "MASTRA_VECTOR_DB": f"file:{data / 'vector.db'}",
    }
    log = data / "mastra-peer.log"
    node = str(peer / "node22" / "bin" / "node")
    proc = _spawn(cpu, [node, "server.mjs"], log, cwd=peer, env=env)
    url = f"http://127.0.0.1:{port}"
    server = Server("the Mastra peer", proc, url, log)
    return _wait_until(server, lambda: url if _healthy(url) else None, timeout)


def start_ours(data: Path, cpu: int | None, timeout: float = 60.0) -> Server:
    """Start ``python -m runtime serve config/default.toml`` with its data in ``data`` on a
    free port; returns once it logged the address it serves."""
    env = {**os.environ, "MASTRA_PORT": "0", "MASTRA_DATA": str(data)}
    env["MASTRA_LOGGING__LEVEL"] = "INFO"
    log = data / "runtime.log"
    args = [sys.executable, "-m", "runtime", "serve", str(ROOT / "config" / "default.toml")]
    proc = _spawn(cpu, args, log, cwd=ROOT, env=env)
    server = Server("our server", proc, "", log)

    def ready() -> str | None:
        match = _SERVING.search(log.read_text(errors="replace"))
        return match.group(1) if match else None

    return _wait_until(server, ready, timeout)


def start_bare(data: Path, cpu: int | None, timeout: float = 60.0, *, raw: bool = False) -> Server:
    """Start the bare hypercorn + starlette endpoint of ``bench._bare_server`` (a plain
    Python HTTP stack: no actor, no store), or with ``raw`` its plain ASGI form on the
    runtime's own HTTP server (that server alone); returns once it printed its address."""
    log = data / ("raw.log" if raw else "bare.log")
    args = [sys.executable, "-m", "bench._bare_server", *(["--raw"] if raw else [])]
    proc = _spawn(cpu, args, log, cwd=ROOT)
    name = "a plain ASGI endpoint" if raw else "a bare HTTP endpoint"
    server = Server(name, proc, "", log)

    def ready() -> str | None:  # its own line; hypercorn's log lines go there too
        lines = log.read_text(errors="replace").splitlines()
        return next((line for line in lines if line.startswith("http://")), None)

    return _wait_until(server, ready, timeout)
