"""Components of the offline demo served by ``config/default.toml``."""

from __future__ import annotations

import msgspec

from actors.tools import tool

__all__ = ["Sum", "add"]


class Sum(msgspec.Struct, frozen=True):
    """The result of ``add``."""

    sum: float


@tool(id="add")
def add(a: float, b: float) -> Sum:
    """Adds two numbers and returns their sum

    Args:
        a: first addend
        b: second addend
    """
    return Sum(sum=a + b)
