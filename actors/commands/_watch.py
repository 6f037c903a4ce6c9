"""Change detection for ``mastra dev``: polled file fingerprints and module re-import.

Watched are the config file, every ``.py`` file under the config's directory and under each
extra path (a directory, walked recursively, or a single file). Hidden directories,
``__pycache__`` and virtual environments are skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

import trio

__all__ = ["Fingerprints", "Watcher", "forget_modules", "scan"]

Fingerprints = dict[str, tuple[int, int]]
"""``{path: (mtime_ns, size)}`` of every watched file that exists."""

_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
_KEEP_MODULES = ("runtime", "actors.commands", "actors.commands.build")


def _stat(path: str, into: Fingerprints) -> None:
    try:
        info = os.stat(path)
    except OSError:
        return  # deleted between listing and stat: it is simply gone
    into[path] = (info.st_mtime_ns, info.st_size)


def scan(files: Iterable[Path], directories: Iterable[Path]) -> Fingerprints:
    """Fingerprints of ``files`` and of the ``.py`` files under ``directories``. Blocking."""
    found: Fingerprints = {}
    for file in files:
        _stat(str(file), found)
    for directory in directories:
        for root, dirs, names in os.walk(directory):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
            for name in names:
                if name.endswith(".py"):
                    _stat(os.path.join(root, name), found)
    return found


class Watcher:
    """Polls fingerprints; ``changes`` reports the paths added, removed or modified since
    the previous call. Scans run in a worker thread (one at a time)."""

    def __init__(self, config: Path, extra: Iterable[Path]) -> None:
        paths = [config.resolve(), *(p.resolve() for p in extra)]
        self.files = [p for p in paths if not p.is_dir()]
        self.directories = [config.resolve().parent, *(p for p in paths[1:] if p.is_dir())]
        self._limiter = trio.CapacityLimiter(1)
        self._seen: Fingerprints = {}

    async def _scan(self) -> Fingerprints:
        return await trio.to_thread.run_sync(
            scan, self.files, self.directories, limiter=self._limiter
        )

    async def prime(self) -> None:
        """Record the current state as unchanged."""
        self._seen = await self._scan()

    async def changes(self) -> list[str]:
        """The paths that changed since the last call (sorted), and remember the new state.

        Cancellation: the scan in progress finishes in its thread; its result is dropped.
        """
        now = await self._scan()
        changed = sorted(
            p for p in now.keys() | self._seen.keys() if now.get(p) != self._seen.get(p)
        )
        self._seen = now
        return changed

    def forget_modules(self) -> list[str]:
        """Drop the modules loaded from watched directories from ``sys.modules`` (see
        ``forget_modules``); returns their names."""
        return forget_modules(self.directories)


def forget_modules(directories: Iterable[Path]) -> list[str]:
    """Remove from ``sys.modules`` every module whose file lies under ``directories`` so the
    next import reads the edited source; the kernel and the command line are kept (they are
    running). Returns the names removed."""
    roots = [str(d) + os.sep for d in directories]
    gone: list[str] = []
    for name, module in list(sys.modules.items()):
        if any(name == keep or name.startswith(f"{keep}.") for keep in _KEEP_MODULES):
            continue
        file = getattr(module, "__file__", None)
        if file and any(os.path.abspath(file).startswith(root) for root in roots):
            del sys.modules[name]
            gone.append(name)
    return sorted(gone)
