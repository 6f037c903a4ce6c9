"""A handler can hand its reply to another task and take the next message at once."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import trio

from runtime import Actor, ActorCrashed, ActorError, Reply
from runtime.testing import TestRuntime


class Later(Actor):
    """Answers ``("later", x)`` from a background task once ``("release",)`` arrives."""

    uses_nursery: ClassVar[bool] = True

    def __init__(self) -> None:
        self.held: list[tuple[Reply, Any]] = []

    async def receive(self, msg: Any) -> Any:
        match msg:
            case ("later", value):
                reply = self.ctx.defer_reply()
                assert reply is not None
                self.held.append((reply, value))
                return "ignored: the deferred reply answers"
            case ("release",):
                held, self.held = self.held, []
                self.ctx.nursery.start_soon(self._answer, held)
                return len(held)
            case ("defer-then-fail",):
                self.ctx.defer_reply()
                raise RuntimeError("after deferring")
            case ("defer-a-tell",):
                self.held.append((Reply(), self.ctx.defer_reply()))
                return None
            case ("held",):
                return [value for _, value in self.held]
            case ("defer-stream",):
                self.ctx.defer_reply()
        return None

    async def _answer(self, held: list[tuple[Reply, Any]]) -> None:
        await trio.lowlevel.checkpoint()
        for reply, value in held:
            reply.set_value(value * 10)


async def test_deferred_replies_arrive_while_the_actor_takes_more_messages(
    t: TestRuntime,
) -> None:
    ref = await t.rt.spawn(Later, name="later")
    answers: dict[int, int] = {}

    async def ask(value: int) -> None:
        answers[value] = await ref.ask(("later", value))

    async with trio.open_nursery() as nursery:
        for value in range(3):
            nursery.start_soon(ask, value)
        await trio.sleep(0.01)
        assert answers == {}  # held, while the (concurrency 1) actor goes on taking messages
        assert await ref.ask(("release",)) == 3
    assert answers == {0: 0, 1: 10, 2: 20}


async def test_a_handler_that_fails_after_deferring_still_answers_with_the_crash(
    t: TestRuntime,
) -> None:
    ref = await t.rt.spawn(Later, name="fails")
    with pytest.raises(ActorCrashed, match="after deferring"):
        await ref.ask(("defer-then-fail",))


async def test_deferring_a_tell_gives_no_reply_and_streams_cannot_defer(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Later, name="tell")
    await ref.send(("defer-a-tell",))
    assert await ref.ask(("held",)) == [None]
    with pytest.raises(ActorCrashed) as info:
        async for _ in ref.stream(("defer-stream",)):
            pass
    assert isinstance(info.value.__cause__, ActorError)


class DefersInStart(Actor):
    async def on_start(self) -> None:
        self.ctx.defer_reply()


async def test_defer_reply_outside_a_handler_is_refused(t: TestRuntime) -> None:
    with pytest.raises(ActorError, match=r"defer_reply\(\) needs an ask or a tell"):
        await t.rt.spawn(DefersInStart, name="early")
