"""``mastra init DIR``: scaffold a project that runs offline.

Writes ``config.toml`` (scripted model, hash embedder, SQLite under ``data/``, an HTTP
server), a package with an agent, its tool and a workflow of two steps, a pytest file that
runs them in a test runtime, ``pyproject.toml`` and ``.gitignore``. A directory that is not
empty is refused unless ``--force`` (which overwrites only the files listed above).
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
import tomllib
from pathlib import Path

import runtime
from actors.commands._common import UsageError, command_parser, run_command
from actors.commands._templates import FILES

__all__ = ["main", "package_name", "runtime_requirement", "scaffold"]

EXAMPLES = [
    "mastra init weather",
    "mastra init . --package weather_app --force",
    "cd weather && python -m pytest && python -m runtime dev config.toml",
]
_RESERVED = frozenset({"actors", "runtime", "tests", "bench", "examples", "config"})


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "init",
        "Create a project: config.toml (offline: scripted model, hash embedder, SQLite under "
        "data/), a package with an agent, a tool and a workflow, and a pytest test.",
        EXAMPLES,
    )
    parser.add_argument("dir", help="directory to create the project in (new or empty)")
    parser.add_argument(
        "--package", help="name of the Python package (default: from the directory name)"
    )
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty directory, overwriting"
    )
    return parser


def package_name(directory: Path, given: str | None) -> str:
    """The package name: ``given``, or the directory's name made an identifier.

    Raises ``UsageError`` for a name that is not an identifier or would shadow the standard
    library or this project's own packages.
    """
    name = given
    if name is None:
        name = re.sub(r"\W+", "_", directory.resolve().name.lower()).strip("_") or "app"
        if name[0].isdigit():
            name = f"app_{name}"
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"--package: {name!r} is not a valid Python package name")
    if name in _RESERVED or name in sys.stdlib_module_names:
        raise UsageError(f"--package: {name!r} would shadow an existing package; choose another")
    return name


def runtime_requirement() -> str:
    """How a new project depends on this runtime: the source tree it runs from, as a direct
    reference that pip and uv both install (the usual case: a clone of this repository),
    else the installed version by name."""
    root = Path(runtime.__file__).resolve().parent.parent
    try:
        with (root / "pyproject.toml").open("rb") as file:
            name = tomllib.load(file).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        name = None
    if name == "mastra-runtime":
        return f"mastra-runtime @ {root.as_uri()}"
    return f"mastra-runtime=={runtime.__version__}"


def scaffold(directory: Path, package: str, *, force: bool = False) -> list[Path]:
    """Write the project files into ``directory``; returns their paths.

    Raises ``UsageError`` when ``directory`` is a file, is not empty (unless ``force``) or
    cannot be written; files written before a write error stay.
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"{directory} is not empty (pass --force to write into it anyway)")
    values = {
        "name": directory.resolve().name,
        "package": package,
        "requirement": runtime_requirement(),
    }
    written: list[Path] = []
    try:
        for relative, template in FILES.items():
            path = directory / relative.replace("$package", package)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.substitute(values), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise UsageError(f"cannot write the project in {directory}: {exc.strerror}") from None
    return written


def _init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    package = package_name(directory, args.package)
    for path in scaffold(directory, package, force=args.force):
        print(path)
    print(
        f"\nnext: cd {directory} && python -m pytest && python -m runtime dev config.toml",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``mastra init``; returns the exit code (0 written, 2 usage error)."""
    return run_command("init", _parser(), argv, _init)


if __name__ == "__main__":
    sys.exit(main())
