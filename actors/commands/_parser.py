"""The argument parser every ``mastra`` command builds its options on."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["command_parser"]


def command_parser(
    command: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """An argument parser for ``mastra <command>`` whose ``--help`` ends with examples."""
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    return argparse.ArgumentParser(
        prog=f"mastra {command}",
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
