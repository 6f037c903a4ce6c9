"""``mastra dev CONFIG``: serve a config and restart the runtime when its files change.

The config file and every ``.py`` file under its directory (and under each ``--watch``
path) are polled every ``--interval`` seconds. After a change settles, the config is loaded
and checked again with the edited modules re-imported; when that works the running runtime
is stopped gracefully (as on SIGTERM) and a new one started in the same process. A config
that does not load or check is reported (``mastra dev: <message>``) and the running
runtime keeps running. A runtime that fails (an actor crashing at start, restart
escalation) is reported and the next change tries again. SIGINT or SIGTERM stops the
runtime and exits 0; a config error at the first load exits 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import trio

from actors.commands._common import UsageError, command_parser, load_app_config, run_command
from actors.commands._studio import StudioSetup, announce_studio, studio_directory
from actors.commands._watch import Watcher
from runtime import (
    ActorCrashed,
    ConfigError,
    Mastra,
    RestartIntensityExceeded,
    RuntimeConfig,
    configure_logging,
    open_runtime,
)

__all__ = ["Incarnation", "Reloader", "develop", "main"]

log = logging.getLogger("actors.commands.dev")
EXAMPLES = [
    "mastra dev config.toml",
    "mastra dev config/default.toml --watch src/myapp --interval 0.5",
    "mastra dev config/default.toml --studio",
]
_FAILURES = (ActorCrashed, RestartIntensityExceeded, ConfigError)


class Incarnation:
    """One runtime started from one config, run as a task with ``nursery.start``; ``rt``
    is its ``Mastra`` handle while it runs.

    ``start`` raises what kept the runtime from starting (``ConfigError``, ``ActorCrashed``);
    a failure after the start is logged and ends the task. ``stop`` stops it gracefully.
    """

    def __init__(
        self,
        config: RuntimeConfig,
        opener: Callable[[RuntimeConfig], AbstractAsyncContextManager[Mastra]] = open_runtime,
    ) -> None:
        self.config = config
        self.opener = opener
        self.rt: Mastra | None = None
        self._stop = trio.Event()
        self.done = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the runtime until ``stop``. Cancellation stops every actor (``on_stop`` runs)."""
        started = False
        try:
            async with self.opener(self.config) as self.rt:
                names = ", ".join(a.name for a in self.config.actors) or "no actors"
                log.info("dev: runtime up from %s (%s)", self.config.source, names)
                started = True
                task_status.started()
                await self._stop.wait()
            log.info("dev: runtime stopped")
        except _FAILURES as exc:
            if not started:
                raise
            log.error("dev: runtime failed: %s; waiting for a change", exc)  # noqa: TRY400
        finally:
            self.rt = None
            self.done.set()

    async def stop(self) -> None:
        """Stop the runtime gracefully and wait until it has stopped (at once if it has)."""
        self._stop.set()
        await self.done.wait()


class Reloader:
    """The reload loop: one incarnation at a time, run in ``nursery``; ``current`` is the
    running one (``None`` after a failed start). With ``studio``, every runtime serves
    Studio and keeps its traces (in one store across restarts)."""

    def __init__(
        self, nursery: trio.Nursery, path: str, watcher: Watcher, studio: StudioSetup | None = None
    ) -> None:
        self.studio = studio
        self.nursery = nursery
        self.path = path
        self.watcher = watcher
        self.current: Incarnation | None = None
        self._limiter = trio.CapacityLimiter(1)

    async def start(self, config: RuntimeConfig) -> None:
        """Start ``config``'s runtime and return once it is up; raises what kept it from
        starting (``ConfigError``, ``ActorCrashed``). Cancellation stops it half-started."""
        configure_logging(config.logging)
        if self.studio is None:
            incarnation = Incarnation(config)
        else:
            incarnation = Incarnation(self.studio.apply(config), self.studio.open_runtime)
        await self.nursery.start(incarnation.run)
        self.current = incarnation
        if self.studio is not None and incarnation.rt is not None:
            await announce_studio(incarnation.rt, incarnation.config)

    async def stop(self) -> None:
        """Stop the running runtime, if any, and wait for it. Cancellation cancels its actors
        (their ``on_stop`` still runs)."""
        if self.current is not None:
            await self.current.stop()
            self.current = None

    def _load(self) -> RuntimeConfig:
        self.watcher.forget_modules()
        return load_app_config(self.path)

    async def reload(self) -> None:
        """Load the edited config and swap runtimes, or report on stderr why not.

        Cancellation while loading lets the load finish in its thread and keeps the running
        runtime; cancellation while swapping leaves no runtime running.
        """
        try:
            config = await trio.to_thread.run_sync(self._load, limiter=self._limiter)
        except ConfigError as exc:
            running = self.current is not None and not self.current.done.is_set()
            kept = "; the running runtime keeps running" if running else ""
            print(f"mastra dev: {exc}{kept}", file=sys.stderr)
            return
        await self.stop()
        try:
            await self.start(config)
        except _FAILURES as exc:
            print(f"mastra dev: the runtime did not start: {exc}", file=sys.stderr)

    async def watch(self, interval: float) -> None:
        """Poll for changes every ``interval`` seconds and reload once a change has settled
        (no further change within one more interval). Runs until cancelled."""
        while True:
            await trio.sleep(interval)
            changed = await self.watcher.changes()
            if not changed:
                continue
            while more := await _settled(self.watcher, interval):
                changed = sorted({*changed, *more})
            shown = ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
            log.info("dev: changed: %s; reloading", shown)
            await self.reload()


async def _settled(watcher: Watcher, interval: float) -> list[str]:
    await trio.sleep(interval)
    return await watcher.changes()


async def _cancel_on_signal(signals: AsyncIterator[int], scope: trio.CancelScope) -> None:
    async for signum in signals:
        log.info("dev: received %s; stopping", signal.Signals(signum).name)
        scope.cancel()
        return


async def develop(
    path: str,
    config: RuntimeConfig,
    watch: list[Path],
    interval: float,
    studio: StudioSetup | None = None,
) -> int:
    """Serve ``config`` (loaded from ``path``) and reload on changes until SIGINT/SIGTERM;
    with ``studio``, serve Studio too.

    Returns 0 after a signal, 2 when the first start fails with a ``ConfigError``.
    """
    watcher = Watcher(Path(path), watch)
    await watcher.prime()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            dev = Reloader(nursery, path, watcher, studio)
            with trio.CancelScope() as watching:
                nursery.start_soon(_cancel_on_signal, signals, watching)
                try:
                    await dev.start(config)
                except ConfigError as exc:
                    print(f"mastra dev: {exc}", file=sys.stderr)
                    nursery.cancel_scope.cancel()
                    return 2
                except (ActorCrashed, RestartIntensityExceeded) as exc:
                    print(f"mastra dev: the runtime did not start: {exc}", file=sys.stderr)
                await dev.watch(interval)
            await dev.stop()
            nursery.cancel_scope.cancel()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "dev",
        "Serve a config and restart the runtime in-process when the config file or a .py file "
        "under its directory (or a --watch path) changes. A config error on reload is printed "
        "and the running runtime keeps running. SIGINT/SIGTERM stop it (exit 0).",
        EXAMPLES,
    )
    parser.add_argument("config", help="path of the TOML configuration file")
    parser.add_argument(
        "--watch",
        action="append",
        default=[],
        metavar="PATH",
        help="also watch this file, or the .py files under this directory (repeatable)",
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls (default: 1.0)"
    )
    parser.add_argument(
        "--studio",
        action="store_true",
        help="also serve Mastra Studio at / on the server's port (fetched once, then cached)",
    )
    parser.add_argument(
        "--studio-dir", metavar="DIR", help="serve this unpacked Studio (implies --studio)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``mastra dev``; returns the exit code (0 after SIGINT/SIGTERM, 2 config error)."""

    def body(args: argparse.Namespace) -> int:
        if not args.interval > 0:
            raise UsageError("--interval: must be a positive number of seconds")
        missing = [p for p in args.watch if not Path(p).exists()]
        if missing:
            raise UsageError(f"--watch: no such file or directory: {missing[0]}")
        config = load_app_config(args.config)
        watch = [Path(p) for p in args.watch]
        studio = None
        if args.studio or args.studio_dir is not None:
            studio = StudioSetup(studio_directory(args.studio_dir))
            studio.apply(config)  # no HTTP server: a usage error before anything starts
        return trio.run(develop, args.config, config, watch, args.interval, studio)

    return run_command("dev", _parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
