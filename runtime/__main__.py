"""The ``mastra`` command line: ``python -m runtime <command> [args]``.

The kernel provides ``serve``, ``version`` and ``help``. Other commands (``chat``, ``run``,
...) are contributed by installed packages through the ``mastra.commands`` entry-point
group: each entry point names a ``main(argv: list[str]) -> int`` function.

``serve CONFIG --workers N`` runs N processes, each a full runtime from CONFIG, serving one
port (``MASTRA_WORKERS=N`` in their environment tells an HTTP server to bind with
SO_REUSEPORT). It is refused when an actor's factory declares ``single_process`` (a string
saying why and what to use instead): such an actor keeps its state inside one process.
"""

from __future__ import annotations

import argparse
import logging
import os
import pkgutil
import signal
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

import trio

from runtime import __version__
from runtime._config import RuntimeConfig, add_config_dir_to_path, load_config
from runtime._errors import ActorCrashed, ConfigError, RestartIntensityExceeded
from runtime._logging import configure_logging
from runtime._root import open_runtime

__all__ = ["main"]

log = logging.getLogger("runtime")
Command = Callable[[list[str]], int]

USAGE = """usage: mastra <command> [options]

commands:
  serve CONFIG   start the runtime from a TOML config and run until SIGINT/SIGTERM
  version        print the version (also -v, --version)
  help [COMMAND] show help for a command (also -h, --help; or mastra COMMAND --help)
"""
SERVE_EXAMPLES = """examples:
  mastra serve config/default.toml
  MASTRA_PORT=8080 mastra serve config.toml
  DATABASE_URL=postgresql://app@db/app mastra serve config/postgres.toml --workers 4
"""


def _plugin_commands() -> dict[str, Command]:
    commands: dict[str, Command] = {}
    for entry in entry_points(group="mastra.commands"):
        commands[entry.name] = entry.load()
    return commands


async def serve(config: RuntimeConfig) -> None:
    """Run the runtime until SIGINT or SIGTERM, then stop every actor gracefully."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with open_runtime(config) as rt:
            names = ", ".join(a.name for a in config.actors) or "no actors"
            log.info("runtime up from %s (%s)", config.source or "defaults", names)
            async for signum in signals:
                log.info("received %s; stopping", signal.Signals(signum).name)
                break
            _ = rt
    log.info("runtime stopped")


def _single_process(config: RuntimeConfig) -> str | None:
    """Why CONFIG cannot run in several processes (an actor declaring ``single_process``),
    or None. Factories that do not resolve are left to the workers to report."""
    for actor in config.actors:
        try:
            factory = pkgutil.resolve_name(actor.factory)
        except (ImportError, AttributeError, ValueError):
            continue
        reason = getattr(factory, "single_process", None)
        if isinstance(reason, str) and reason:
            return f"actor {actor.name!r} ({actor.factory}) cannot be shared: {reason}"
    return None


async def _stop_worker(process: trio.Process) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it is still running a minute later."""
    process.terminate()
    with trio.move_on_after(60):
        await process.wait()
    process.kill()


async def _run_worker(command: list[str], index: int, workers: int, ended: trio.Event) -> None:
    """Run one worker until it exits (then end the others) or is cancelled (SIGTERM)."""
    env = {**os.environ, "MASTRA_WORKERS": str(workers), "MASTRA_WORKER": str(index)}
    done = await trio.run_process(command, env=env, check=False, deliver_cancel=_stop_worker)
    log.error("worker %d exited with code %d; stopping the others", index, done.returncode)
    ended.set()


async def serve_workers(config_path: str, workers: int) -> int:
    """Run ``workers`` processes serving ``config_path`` until SIGINT/SIGTERM (forwarded to
    each as SIGTERM; returns 0) or until one exits on its own (the others are stopped;
    returns 1, for a service manager to restart the whole)."""
    command = [sys.executable, "-m", "runtime", "serve", config_path]
    ended = trio.Event()
    stopping = False
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            for index in range(workers):
                nursery.start_soon(_run_worker, command, index, workers, ended)
            log.info("serving %s with %d worker processes", config_path, workers)

            async def on_signal() -> None:
                nonlocal stopping
                async for signum in signals:
                    log.info("received %s; stopping the workers", signal.Signals(signum).name)
                    stopping = True
                    ended.set()
                    return

            nursery.start_soon(on_signal)
            await ended.wait()
            nursery.cancel_scope.cancel()
    return 0 if stopping else 1


def _serve_several(path: str, config: RuntimeConfig, workers: int) -> int:
    problem = _single_process(config)
    if problem is not None:
        print(f"mastra serve: --workers {workers}: {problem}", file=sys.stderr)
        return 2
    return trio.run(serve_workers, path, workers)


def _serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="mastra serve",
        description="Serve a config file until SIGINT or SIGTERM.",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="path of the TOML configuration file")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the same port (SO_REUSEPORT), each a full runtime; needs"
        " stores that processes can share (Postgres), not SQLite",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        print(f"mastra serve: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"mastra serve: {exc}", file=sys.stderr)
        return 2
    add_config_dir_to_path(args.config)
    configure_logging(config.logging)
    if args.workers > 1:
        return _serve_several(args.config, config, args.workers)
    try:
        trio.run(serve, config)
    except ConfigError as exc:  # a user's mistake: the message, no traceback
        print(f"mastra serve: {exc}", file=sys.stderr)
        return 2
    except (ActorCrashed, RestartIntensityExceeded) as exc:
        log.error("runtime failed: %s", exc)  # noqa: TRY400 - the cause was logged already
        return 1
    return 0


def _summary(name: str, command: Command) -> str:
    """``name`` and what its module's docstring says it does (``mastra x``: does y)."""
    module = sys.modules.get(getattr(command, "__module__", ""), None)
    first = ((module.__doc__ if module else None) or "").strip().splitlines()[:1]
    _, colon, what = first[0].partition(": ") if first else ("", "", "")
    return f"{name:<14} {what}" if colon else name


def _builtin_commands() -> dict[str, Command]:
    return {
        "serve": _serve_main,
        "version": lambda _argv: print(f"mastra-runtime {__version__}") or 0,
    }


def _usage(commands: dict[str, Command]) -> str:
    """The usage text: the kernel's commands, then every installed one with its summary."""
    extra = sorted(set(commands) - set(_builtin_commands()))
    return USAGE + "".join(f"  {_summary(name, commands[name])}\n" for name in extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to a command; returns the exit code.

    Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {**_plugin_commands(), **_builtin_commands()}
    if args and args[0] in {"-v", "--version"}:
        args[0] = "version"
    if not args or args[0] in {"help", "-h", "--help"}:
        if len(args) > 1 and args[1] in commands:
            return commands[args[1]](["--help"]) if args[1] != "version" else 0
        print(_usage(commands), end="")
        return 0
    command = commands.get(args[0])
    if command is None:
        print(f"mastra: unknown command {args[0]!r}\n\n{_usage(commands)}", file=sys.stderr, end="")
        return 2
    try:
        return command(args[1:])
    except SystemExit as exc:  # argparse exits 2 on bad flags and 0 on --help
        return exc.code if isinstance(exc.code, int) else 2


if __name__ == "__main__":
    sys.exit(main())
