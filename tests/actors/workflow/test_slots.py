"""The slots bounding inline step executions: order, hand-over, cancelled waiters."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.workflow._step_actor import _Slots


async def test_released_slots_go_to_waiters_in_order_and_cancelled_ones_take_none() -> None:
    slots = _Slots(1)
    await slots.acquire()
    order: list[str] = []

    async def waiter(name: str, *, task_status: trio.TaskStatus[trio.CancelScope]) -> None:
        with trio.CancelScope() as scope:
            task_status.started(scope)
            await slots.acquire()
            order.append(name)
            await trio.lowlevel.checkpoint()
            slots.release()

    async with trio.open_nursery() as nursery:
        scopes = {}
        for name in "abc":
            scopes[name] = await nursery.start(waiter, name)
            await trio.testing.wait_all_tasks_blocked()
        scopes["b"].cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert slots.free == 0 and order == []
        slots.release()
    assert order == ["a", "c"]
    assert slots.free == 1


async def test_free_slots_are_taken_without_waiting() -> None:
    slots = _Slots(2)
    with trio.testing.assert_no_checkpoints():
        await slots.acquire()
        await slots.acquire()
    assert slots.free == 0
    slots.release()
    slots.release()
    assert slots.free == 2


def test_no_slots_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="step_concurrency must be >= 1, got 0"):
        _Slots(0)
