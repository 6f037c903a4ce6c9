"""``mastra build CONFIG``: check a configuration without starting anything.

The file must decode (TOML, types, ``${ENV}`` values), every actor name must be unique, and
every ``factory = "module:attr"`` must import and accept the actor's ``options``. Each
problem is printed as one line naming its ``$.path``; the exit code is 0 when there are
none, 1 when there are, 2 when the file cannot be read or decoded.
"""

from __future__ import annotations

import inspect
import pkgutil
import sys
from typing import Any

from actors.commands._parser import command_parser
from runtime import ActorConfig, ConfigError, Spawnable, add_config_dir_to_path, load_config

__all__ = ["check_actor", "check_actors", "main"]


def _factory_problem(factory: Any, actor: ActorConfig, path: str) -> str | None:
    if isinstance(factory, Spawnable) and not isinstance(factory, type):
        if actor.options:
            return f"{path}.options: {actor.factory!r} is a declarative spec and takes no options"
        return None
    if not callable(factory):
        return f"{path}.factory: {actor.factory!r} is neither an actor nor a spec"
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None  # a builtin without a signature: nothing more to check
    try:
        signature.bind(**actor.options)
    except TypeError as exc:
        return f"{path}.options: {actor.factory!r} does not accept these options: {exc}"
    return None


def check_actor(actor: ActorConfig, path: str) -> str | None:
    """The problem with one configured actor, or ``None``.

    Importing the factory's module runs it: any exception it raises is reported as a
    problem, never propagated (``KeyboardInterrupt`` and ``SystemExit`` still propagate).
    """
    if ":" not in actor.factory:
        return f"{path}.factory: expected 'module:attr', got {actor.factory!r}"
    try:
        factory = pkgutil.resolve_name(actor.factory)
    except Exception as exc:  # importing runs the module: any error is a config problem
        return f"{path}.factory: cannot import {actor.factory!r}: {exc!r}"
    return _factory_problem(factory, actor, path)


def check_actors(actors: list[ActorConfig]) -> list[str]:
    """Every problem of the configured actors, in file order."""
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for index, actor in enumerate(actors):
        path = f"$.actors[{index}]"
        key = (actor.kind, actor.name)
        if key in seen:
            first = f"$.actors[{seen[key]}]"
            problems.append(f"{path}.name: {actor.kind} {actor.name!r} is already named at {first}")
        seen.setdefault(key, index)
        problem = check_actor(actor, path)
        if problem is not None:
            problems.append(problem)
    return problems


def main(argv: list[str]) -> int:
    """Run ``mastra build``; returns the exit code (0 clean, 1 problems, 2 unreadable)."""
    parser = command_parser(
        "build",
        "Validate a config file and every 'module:attr' it names; start nothing.",
        ["mastra build config/default.toml", "mastra build deploy/config.toml && echo valid"],
    )
    parser.add_argument("config", help="path of the TOML configuration file")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"mastra build: {exc}", file=sys.stderr)
        return 2
    add_config_dir_to_path(args.config)
    problems = check_actors(config.actors)
    for problem in problems:
        print(f"mastra build: {problem}", file=sys.stderr)
    if problems:
        print(f"mastra build: {len(problems)} problem(s) in {args.config}", file=sys.stderr)
        return 1
    print(f"{args.config}: ok ({len(config.actors)} actors)")
    return 0
