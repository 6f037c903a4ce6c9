"""What the commands share: argument parsing, the ``mastra <cmd>: <message>`` error line,
loading a config the way every command does, and starting it without HTTP servers.
"""

from __future__ import annotations

import argparse
import logging
import pkgutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import IO

import msgspec
import trio

from actors.commands._parser import command_parser
from actors.commands.build import check_actors
from runtime import (
    ActorCrashed,
    ConfigError,
    RestartIntensityExceeded,
    RuntimeConfig,
    add_config_dir_to_path,
    load_config,
)

__all__ = [
    "UsageError",
    "command_parser",
    "load_app_config",
    "quiet_logging",
    "run_command",
    "without_servers",
]


class UsageError(Exception):
    """A user's mistake (bad flag value, unknown name, refused overwrite): the command prints
    ``mastra <cmd>: <message>`` on stderr and exits with code 2, never a traceback."""


def run_command(
    command: str,
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    body: Callable[[argparse.Namespace], int],
) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run ``body``; returns the exit code.

    ``--help`` returns 0 and a bad flag 2 (argparse prints its message); a ``UsageError`` or
    ``ConfigError`` from ``body`` is printed as ``mastra <command>: <message>`` and returns 2.
    A runtime that cannot start (an actor failed in ``on_start``, e.g. its database is used
    by a running server) or gave up restarting is printed the same way and returns 1.
    Ctrl-C returns 130. Every other exception propagates: it is a bug, not a user's mistake.
    """
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return body(args)
    except (UsageError, ConfigError) as exc:
        print(f"mastra {command}: {exc}", file=sys.stderr)
        return 2
    except (ActorCrashed, RestartIntensityExceeded) as exc:
        print(f"mastra {command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def load_app_config(path: str) -> RuntimeConfig:
    """Load the config at ``path`` and check every actor it names, as ``mastra build`` does.

    The config file's directory is put first on ``sys.path`` (once), so a project's own
    ``"package.module:attr"`` names import wherever the command is started from.
    Blocking (reads the file, imports modules): call it before ``trio.run`` or in a thread.
    Raises ``ConfigError`` (the first problem, naming its ``$.path``; the others follow it).
    """
    config = load_config(path)
    add_config_dir_to_path(path)
    problems = check_actors(config.actors)
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def _is_server(factory_name: str) -> bool:
    try:
        factory = pkgutil.resolve_name(factory_name)
    except Exception:  # import problems are reported by the runtime with their $.path
        return False
    from actors.server import Server

    return isinstance(factory, type) and issubclass(factory, Server)


def without_servers(config: RuntimeConfig) -> RuntimeConfig:
    """``config`` minus the HTTP server actors, for commands that talk to agents and
    workflows directly (so they neither need nor take the server's port)."""
    kept = [actor for actor in config.actors if not _is_server(actor.factory)]
    return msgspec.structs.replace(config, actors=kept)


def quiet_logging(config: RuntimeConfig, verbose: bool) -> RuntimeConfig:
    """``config`` logging at WARNING at least, unless ``verbose`` (keeps stdout and the
    terminal free of the runtime's INFO lines in interactive commands)."""
    if verbose or logging.getLevelName(config.logging.level) >= logging.WARNING:
        return config
    quieter = msgspec.structs.replace(config.logging, level="WARNING")
    return msgspec.structs.replace(config, logging=quieter)


def threaded_writer(
    stream: IO[str], limiter: trio.CapacityLimiter
) -> Callable[[str], Awaitable[None]]:
    """An async ``write(text)`` that writes and flushes ``stream`` on a worker thread (a
    terminal or a pipe may block), one write at a time under ``limiter``."""

    async def write(text: str) -> None:
        def put() -> None:
            stream.write(text)
            stream.flush()

        await trio.to_thread.run_sync(put, limiter=limiter)

    return write
