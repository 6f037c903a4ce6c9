from __future__ import annotations

import pytest
import trio

from runtime import open_runtime
from tests.runtime.actors_for_tests import Journal, Recorder


async def test_an_error_in_the_block_is_raised_as_it_was_and_actors_stop() -> None:
    journal = Journal()
    with pytest.raises(KeyError, match="mine"):
        async with open_runtime() as rt:
            await rt.spawn(Recorder, journal, "a", name="a")
            raise KeyError("mine")
    assert journal.events == ["start a", "stop a"]


async def test_cancelling_the_block_is_not_an_error() -> None:
    with trio.move_on_after(0.05) as scope:
        async with open_runtime() as rt:
            await rt.spawn(Recorder, Journal(), name="x")
            await trio.sleep_forever()
    assert scope.cancelled_caught
