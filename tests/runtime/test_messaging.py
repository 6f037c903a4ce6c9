from __future__ import annotations

import functools
import math

import pytest
import trio

from runtime import (
    Actor,
    ActorCrashed,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    SelfAskError,
)
from runtime.testing import TestRuntime
from tests.runtime.actors_for_tests import Boom, Chunks, Get, Journal, Put, Recorder, Sleep


async def test_messages_from_one_sender_arrive_in_order(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="rec", mailbox=8)

    async def producer(name: str) -> None:
        for seq in range(200):
            await ref.send(Put(sender=name, seq=seq))

    async with trio.open_nursery() as nursery:
        for name in ("a", "b", "c"):
            nursery.start_soon(producer, name)
    seen = await ref.ask(Get())
    assert len(seen) == 600
    for name in ("a", "b", "c"):
        assert [p.seq for p in seen if p.sender == name] == list(range(200))


async def test_unknown_spawn_options_are_refused_not_ignored(t: TestRuntime) -> None:
    with pytest.raises(TypeError, match=r"unknown option\(s\) prefix.*functools\.partial"):
        await t.rt.spawn(Recorder, prefix=">")
    assert t.rt.actors("actor") == {}


class Wide(Actor):
    concurrency = 8

    def __init__(self, tag: str = "") -> None:
        self.tag = tag


async def test_a_partial_factory_keeps_its_class_attributes(t: TestRuntime) -> None:
    ref = await t.rt.spawn(functools.partial(functools.partial(Wide), tag="x"))
    assert ref.name.startswith("wide-")
    assert ref._cell.spec.concurrency == 8


async def test_send_waits_for_space_and_send_nowait_raises(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="slow", mailbox=2)
    await ref.send(Sleep(seconds=0.2))  # taken at once, keeps the actor busy
    await trio.sleep(0.01)
    ref.send_nowait(Put(sender="x", seq=1))
    ref.send_nowait(Put(sender="x", seq=2))
    with pytest.raises(MailboxFull):
        ref.send_nowait(Put(sender="x", seq=3))
    start = trio.current_time()
    await ref.send(Put(sender="x", seq=3))  # waits until the sleep finished
    assert trio.current_time() - start >= 0.1
    assert [p.seq for p in await ref.ask(Get())] == [1, 2, 3]


async def test_an_ask_waits_for_room_and_a_cancelled_one_enqueues_nothing(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="full", mailbox=1)
    await ref.send(Sleep(seconds=0.2))  # taken at once, keeps the actor busy
    await trio.sleep(0.01)
    ref.send_nowait(Put(sender="x", seq=1))  # the mailbox is full now
    with trio.move_on_after(0.05):
        await ref.ask(Put(sender="x", seq=2))  # gives up while waiting for room
    start = trio.current_time()
    assert await ref.ask(Put(sender="x", seq=3)) is None  # waits for room, then the answer
    assert trio.current_time() - start >= 0.1
    assert [p.seq for p in await ref.ask(Get())] == [1, 3]


async def test_ask_timeout_raises_ask_timeout_and_is_a_timeout_error(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="sleeper")
    with pytest.raises(AskTimeout) as info:
        await ref.ask(Sleep(seconds=10), timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert "sleeper" in str(info.value)
    # the deadline travelled with the envelope: the handler was cancelled, the actor is free
    assert await ref.ask(Get(), timeout=1) == []


async def test_ask_to_stopped_actor_fails_fast(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="gone")
    await t.rt.stop(ref)
    with trio.fail_after(0.5):
        with pytest.raises(ActorStopped):
            await ref.ask(Get())
    with pytest.raises(ActorStopped):
        ref.send_nowait(Get())
    assert not ref.alive
    assert t.rt.lookup("gone") is None


async def test_pending_asks_fail_when_target_stops(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="busy")
    results: list[str] = []

    async def ask_get() -> None:
        try:
            await ref.ask(Get())
            results.append("ok")
        except ActorStopped:
            results.append("stopped")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ref.ask, Sleep(seconds=0.1))
        await trio.sleep(0.01)
        for _ in range(3):
            nursery.start_soon(ask_get)
        await trio.sleep(0.01)
        with trio.fail_after(2):
            await t.rt.stop(ref)
    assert results == ["stopped"] * 3


async def test_crash_reaches_asker_with_cause(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="crashy")
    with pytest.raises(ActorCrashed) as info:
        await ref.ask(Boom())
    assert isinstance(info.value.__cause__, ValueError)
    assert "crashy" in str(info.value)


class Selfish(Actor):
    async def receive(self, msg: object) -> object:
        return await self.ctx.self_ref.ask(Get())


async def test_actor_asking_itself_is_refused(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Selfish, name="selfish")
    with pytest.raises(ActorCrashed) as info:
        await ref.ask("go", timeout=1)
    assert isinstance(info.value.__cause__, SelfAskError)


async def test_stream_delivers_chunks_and_ends(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="streamer")
    async with ref.stream(Chunks(count=5)) as chunks:
        got = [c async for c in chunks]
    assert got == [0, 1, 2, 3, 4]


async def test_stream_error_is_raised_after_chunks(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="streamer")
    got: list[int] = []
    with pytest.raises(ActorCrashed):
        async with ref.stream(Chunks(count=5, fail_at=2)) as chunks:
            async for c in chunks:
                got.append(c)
    assert got == [0, 1]


class Endless(Actor):
    def __init__(self, state: dict[str, int]) -> None:
        self.state = state

    async def receive(self, msg: object) -> None:
        try:
            i = 0
            while True:
                await self.ctx.reply_stream.send(i)
                i += 1
        finally:
            self.state["cancelled"] = self.state.get("cancelled", 0) + 1


async def test_leaving_a_stream_early_cancels_the_handler(t: TestRuntime) -> None:
    state: dict[str, int] = {}
    ref = await t.rt.spawn(Endless, state, name="endless")
    async with ref.stream("go", buffer=1) as chunks:
        async for c in chunks:
            if c == 3:
                break
    with trio.fail_after(1):
        while not state.get("cancelled"):
            await trio.sleep(0.001)
    assert t.rt.stats()["endless"].restarts == 0  # a cancelled stream is not a crash
    assert t.rt.stats()["endless"].failed == 0


async def test_a_stream_can_be_iterated_directly(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="streamer")
    assert [c async for c in ref.stream(Chunks(count=3))] == [0, 1, 2]
    got: list[int] = []
    with pytest.raises(ActorCrashed):
        async for c in ref.stream(Chunks(count=5, fail_at=2)):
            got.append(c)
    assert got == [0, 1]


async def test_breaking_out_of_a_directly_iterated_stream_cancels_the_handler(
    t: TestRuntime,
) -> None:
    state: dict[str, int] = {}
    ref = await t.rt.spawn(Endless, state, name="endless")
    async for c in ref.stream("go", buffer=1):
        if c == 3:
            break
    with trio.fail_after(1):
        while not state.get("cancelled"):
            await trio.sleep(0.001)
    assert t.rt.stats()["endless"].failed == 0


class Picky(Actor):
    expected_errors = (KeyError,)

    async def receive(self, msg: str) -> str:
        if msg == "bad":
            raise KeyError("no such thing")
        return msg.upper()


async def test_expected_errors_reach_the_asker_without_a_restart(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Picky, name="picky")
    with pytest.raises(KeyError):
        await ref.ask("bad")
    assert await ref.ask("ok") == "OK"
    stats = t.rt.stats()["picky"]
    assert (stats.restarts, stats.failed, stats.handled) == (0, 1, 1)


class Parallel(Actor):
    concurrency = 8

    async def receive(self, msg: float) -> float:
        await trio.sleep(msg)
        return msg


async def test_concurrent_actor_handles_messages_at_once(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Parallel, name="par")
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for _ in range(8):
            nursery.start_soon(ref.ask, 0.2)
    assert trio.current_time() - start < 0.35


async def test_abandoned_ask_is_skipped(t: TestRuntime) -> None:
    journal = Journal()
    ref = await t.rt.spawn(Recorder, journal, name="skip")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ref.ask, Sleep(seconds=0.1))
        await trio.sleep(0.01)
        with trio.move_on_after(0.01):
            await ref.ask(Put(sender="late", seq=0))
    assert await ref.ask(Get()) == []
    assert math.isinf(trio.current_effective_deadline())


class _TaskSteps(trio.abc.Instrument):
    """Counts the scheduler passes of all tasks."""

    def __init__(self) -> None:
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1


async def test_a_burst_of_messages_costs_few_scheduler_passes(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="burst", mailbox=1000)
    await ref.ask(Get())  # the loop is parked and waiting
    steps = _TaskSteps()
    trio.lowlevel.add_instrument(steps)
    try:
        for seq in range(640):
            ref.send_nowait(Put(sender="a", seq=seq))
        assert len(await ref.ask(Get())) == 640
    finally:
        trio.lowlevel.remove_instrument(steps)
    # one pass per YIELD_EVERY (64) queued messages, not one per message
    assert steps.steps <= 30


async def test_an_actor_with_a_full_mailbox_still_lets_other_tasks_run(t: TestRuntime) -> None:
    ref = await t.rt.spawn(Recorder, Journal(), name="busy", mailbox=2000)
    await ref.ask(Get())
    turns = 0
    done = trio.Event()

    async def bystander() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await trio.lowlevel.cancel_shielded_checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(bystander)
        for seq in range(1280):
            ref.send_nowait(Put(sender="a", seq=seq))
        assert len(await ref.ask(Get())) == 1280
        done.set()
    assert turns >= 1280 // 64


async def test_a_burst_to_a_pool_starts_a_worker_per_message(t: TestRuntime) -> None:
    release = trio.Event()
    started = 0

    class Waiter(Actor):
        concurrency = 8

        async def receive(self, msg: int) -> int:
            nonlocal started
            started += 1
            await release.wait()
            return msg

    ref = await t.rt.spawn(Waiter, name="waiters")
    async with trio.open_nursery() as nursery:
        for n in range(8):
            nursery.start_soon(ref.ask, n)
        with trio.fail_after(5):
            while started < 8:
                await trio.sleep(0.001)
        release.set()
    assert started == 8
