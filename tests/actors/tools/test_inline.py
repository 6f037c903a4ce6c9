"""Inline tools: a sync ``blocking=False`` tool run in the caller's task gives exactly the
results its actor gives, without the hop to the actor."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import trio

from actors.tools import ToolRef, tool
from runtime.testing import TestRuntime, open_test_runtime


class Half(msgspec.Struct):
    half: float


@tool(id="halve", blocking=False, timeout=0)
def halve(x: float) -> Half:
    """Halves a number; fails for 13; returns a bad result for 7.

    Args:
        x: the number
    """
    if x == 13:
        raise ValueError("unlucky")
    if x == 7:
        return "seven"  # type: ignore[return-value]  # output validation must catch it
    return Half(half=x / 2)


def test_only_sync_non_blocking_tools_run_inline() -> None:
    @tool
    def threaded() -> int:
        """Runs in a thread."""
        return 1

    @tool(blocking=False)
    async def awaiting() -> int:
        """Awaits."""
        return 1

    assert halve.inline
    assert not threaded.inline
    assert not awaiting.inline


async def test_a_ref_refuses_to_inline_a_tool_that_needs_its_actor() -> None:
    @tool
    def threaded() -> int:
        """Runs in a thread."""
        return 1

    async with open_test_runtime() as t:
        handle = await t.rt.spawn(threaded)
        with pytest.raises(ValueError, match="inline"):
            ToolRef(handle.ref, inline=threaded)


async def _both(t: TestRuntime, args: Any) -> tuple[Any, Any]:
    """The result of ``args`` through the actor, then inline; the actor handles only the
    first."""
    handle = t.rt.lookup("halve", kind="tool") or (await t.rt.spawn(halve)).ref
    before = t.rt.stats()["halve"].handled + t.rt.stats()["halve"].failed
    through_actor = await ToolRef(handle).execute(args, call_id="c1", request_context={"u": 1})
    after = t.rt.stats()["halve"].handled + t.rt.stats()["halve"].failed
    inline = await ToolRef(handle, inline=halve).execute(
        args, call_id="c1", request_context={"u": 1}
    )
    assert after == before + 1
    assert t.rt.stats()["halve"].handled + t.rt.stats()["halve"].failed == after
    return through_actor, inline


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        ({"x": 4}, None),  # ok, even with timeout=0: nothing in the call can be interrupted
        ({"x": "four"}, "validation"),
        ({"y": 1}, "validation"),
        (["x"], "validation"),
        ({"x": 13}, "execution"),
        ({"x": 7}, "execution"),
        ({"x": object()}, "unavailable"),  # crashes the handler: arguments it cannot show
    ],
)
async def test_inline_results_equal_the_actor_results(args: Any, kind: str | None) -> None:
    async with open_test_runtime() as t:
        through_actor, inline = await _both(t, args)
    assert inline == through_actor
    if kind is None:
        assert inline.ok and inline.value == {"half": 2.0}
    else:
        assert not inline.ok and inline.error is not None and inline.error.kind == kind
        assert inline.error.message.startswith(("Tool halve", "Tool input validation"))


async def test_an_inline_crash_is_an_error_result_and_leaves_the_actor_alone() -> None:
    async with open_test_runtime() as t:
        handle = await t.rt.spawn(halve)
        result = await ToolRef(handle.ref, inline=halve).execute({"x": object()})
        assert result.error is not None and result.error.kind == "unavailable"
        assert "crashed handling ExecuteTool" in result.error.message
        assert t.rt.stats()["halve"].restarts == 0


async def test_a_stopped_tool_actor_is_unavailable_inline_too() -> None:
    async with open_test_runtime() as t:
        handle = await t.rt.spawn(halve)
        await t.rt.stop(handle.ref)
        result = await ToolRef(handle.ref, inline=halve).execute({"x": 4})
    assert not result.ok and result.error is not None and result.error.kind == "unavailable"


async def test_a_cancelled_inline_call_does_not_run() -> None:
    calls: list[int] = []

    @tool(blocking=False)
    def count(n: int) -> int:
        """Counts calls."""
        calls.append(n)
        return n

    async with open_test_runtime() as t:
        handle = await t.rt.spawn(count)
        inline = ToolRef(handle.ref, inline=count)
        with trio.CancelScope() as scope:
            scope.cancel()
            await inline.execute({"n": 1})
        assert scope.cancelled_caught
        assert calls == []
        assert (await inline.execute({"n": 2})).value == 2
    assert calls == [2]
