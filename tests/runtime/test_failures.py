"""How handler failures are contained: one failed message fails only its asker unless the
actor declares that a crash breaks shared state; unknown messages get a typed error; and
background tasks run outside any message."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime import (
    Actor,
    ActorCrashed,
    ActorError,
    ActorRef,
    SelfAskError,
    SupervisionConfig,
    UnhandledMessage,
)
from runtime.testing import TestRuntime, open_test_runtime
from tests.runtime.actors_for_tests import Boom, Get, Journal, Put, Recorder


class Turn(msgspec.Struct, frozen=True, tag=True):
    n: int
    fail: bool = False


class Turns(Actor):
    """Handles 64 turns at once: every turn waits until all are in flight; the failing one
    then raises (after letting the others finish, unless ``hold_on_failure``)."""

    concurrency = 64
    hold_on_failure = False

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def on_start(self) -> None:
        self.journal.events.append("start")
        self.all_in = trio.Event()
        self.release = trio.Event()
        self.waiting = 0

    async def receive(self, msg: Turn) -> int:
        self.waiting += 1
        if self.waiting == self.concurrency:
            self.all_in.set()
        await self.all_in.wait()
        if msg.fail:
            if not self.hold_on_failure:
                self.release.set()
            raise RuntimeError(f"turn {msg.n} broke")
        await self.release.wait()
        return msg.n


class SharedTurns(Turns):
    """A crash may leave state the turns share broken: it restarts the actor."""

    restart_on_crash = True
    hold_on_failure = True


async def _ask_all(ref: ActorRef, failing: int) -> dict[int, Any]:
    results: dict[int, Any] = {}

    async def one(n: int) -> None:
        try:
            results[n] = await ref.ask(Turn(n, fail=n == failing), timeout=5)
        except Exception as exc:
            results[n] = exc

    async with trio.open_nursery() as nursery:
        for n in range(64):
            nursery.start_soon(one, n)
    return results


async def test_one_failing_turn_of_64_fails_alone(t: TestRuntime) -> None:
    journal = Journal()
    ref = await t.rt.spawn(Turns, journal, name="turns")
    results = await _ask_all(ref, failing=17)
    failed = results.pop(17)
    assert isinstance(failed, ActorCrashed) and "turn 17 broke" in str(failed)
    assert isinstance(failed.__cause__, RuntimeError)
    assert results == {n: n for n in range(64) if n != 17}
    assert journal.events == ["start"]  # not restarted
    stats = t.rt.stats()["turns"]
    assert (stats.restarts, stats.failed, stats.status) == (0, 1, "running")


async def test_an_actor_declaring_shared_state_restarts_and_fails_its_turns_as_crashed(
    t: TestRuntime,
) -> None:
    journal = Journal()
    ref = await t.rt.spawn(SharedTurns, journal, name="shared")
    results = await _ask_all(ref, failing=3)
    assert all(isinstance(r, ActorCrashed) for r in results.values()), results
    assert "turn 3 broke" in str(results[5])  # the others say why, not a bare stop
    with trio.fail_after(5):
        while t.rt.stats()["shared"].restarts == 0:
            await trio.sleep(0.01)
    assert journal.events == ["start", "start"]


class Typed(Actor):
    async def receive(self, msg: Put | Get) -> Any:
        return "ok"


class Untyped(Actor):
    """Keeps the default ``receive``."""


async def test_a_message_outside_receives_annotation_is_refused_before_it_is_queued(
    t: TestRuntime,
) -> None:
    ref = await t.rt.spawn(Typed, name="typed", mailbox=1)
    with pytest.raises(UnhandledMessage, match=r"does not handle Boom.*accepts Put, Get"):
        await ref.ask(Boom())
    for _ in range(3):  # a full mailbox would block the second send: nothing was queued
        with pytest.raises(UnhandledMessage):
            await ref.send(Boom())
    assert await ref.ask(Get()) == "ok"
    assert t.rt.stats()["typed"].restarts == 0


async def test_an_actor_without_a_handler_answers_unhandled_and_keeps_running(
    t: TestRuntime,
) -> None:
    ref = await t.rt.spawn(Untyped, name="untyped")
    for _ in range(2):
        with pytest.raises(UnhandledMessage, match="Untyped"):
            await ref.ask(Get())
    stats = t.rt.stats()["untyped"]
    assert (stats.restarts, stats.status) == (0, "running")


class AsksItself(Actor):
    """On ``Put`` its background task looks at the message context while the loop still
    handles the ``Put``, then asks the actor itself for ``Get``."""

    uses_nursery = True

    async def on_start(self) -> None:
        self.looked = trio.Event()
        self.answers, self.results = trio.open_memory_channel[Any](1)

    async def receive(self, msg: Put | Get) -> Any:
        if isinstance(msg, Get):
            return "from the loop"
        self.ctx.nursery.start_soon(self._background)
        await self.looked.wait()
        return None

    async def _background(self) -> None:
        try:
            deferred: Any = self.ctx.defer_reply()
        except ActorError:
            deferred = "refused"
        seen = (self.ctx.sender, deferred)
        self.looked.set()
        answer = await self.ctx.self_ref.ask(Get(), timeout=2)
        await self.answers.send((seen, answer))


class Relay(Actor):
    def __init__(self, target: ActorRef) -> None:
        self.target = target

    async def receive(self, msg: Put) -> Any:
        return await self.target.ask(msg)


async def test_a_background_task_handles_no_message_and_may_ask_its_own_actor(
    t: TestRuntime,
) -> None:
    ref = await t.rt.spawn(AsksItself, name="self-asker")
    relay = await t.rt.spawn(Relay, ref, name="relay")
    await relay.ask(Put(sender="relay", seq=1))  # the loop's message has a sender and a reply
    actor = ref._cell.instance
    assert isinstance(actor, AsksItself)
    with trio.fail_after(5):
        seen, answer = await actor.results.receive()
    assert seen == (None, "refused")
    assert answer == "from the loop"
    assert t.rt.stats()["self-asker"].restarts == 0


async def test_a_handler_asking_its_own_single_loop_is_refused(t: TestRuntime) -> None:
    class Loops(Actor):
        async def receive(self, msg: Get) -> Any:
            return await self.ctx.self_ref.ask(Put(sender="me", seq=0))

    ref = await t.rt.spawn(Loops, name="loops")
    with pytest.raises(ActorCrashed) as caught:
        await ref.ask(Get())
    assert isinstance(caught.value.__cause__, SelfAskError)


class Family(Actor):
    """Parent of a, b, c under ``strategy``; the journal records every child start."""

    def __init__(self, journal: Journal, strategy: Any) -> None:
        self.journal = journal
        self.strategy = strategy

    async def on_start(self) -> None:
        policy = SupervisionConfig(
            strategy=self.strategy, max_restarts=100, grace=1.0, backoff_base=0
        )
        for tag in ("a", "b", "c"):
            await self.ctx.spawn(Recorder, self.journal, tag, name=tag, supervision=policy)

    async def receive(self, msg: Any) -> Any:
        return None


async def test_siblings_crashing_together_restart_once_under_one_for_all(
    t: TestRuntime,
) -> None:
    journal = Journal()
    policy = SupervisionConfig(strategy="one_for_all", max_restarts=100, backoff_base=0)
    await t.rt.spawn(Family, journal, "one_for_all", name="family", supervision=policy)
    journal.events.clear()
    refs = [t.rt.lookup(tag) for tag in ("a", "b", "c")]
    for ref in refs[1:]:
        assert ref is not None
        await ref.send(Boom())
    await _all_answer(refs)
    await trio.sleep(0.1)  # a second, wrong restart round would show up here
    await _all_answer(refs)
    starts = [e for e in journal.events if e.startswith("start")]
    assert sorted(starts) == ["start a", "start b", "start c"]


async def _all_answer(refs: list[ActorRef | None]) -> None:
    with trio.fail_after(5):
        for ref in refs:
            assert ref is not None
            while True:
                try:
                    await ref.ask(Get(), timeout=1)
                    break
                except Exception:
                    await trio.sleep(0.01)


class StartsBadly(Actor):
    """Its second incarnation starts a child whose crash escalates (its supervisor allows
    no restart), then fails its own start."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def on_start(self) -> None:
        self.journal.events.append("start")
        if self.journal.events.count("start") != 2:
            return
        child = await self.ctx.spawn(Recorder, Journal(), "child")
        with pytest.raises(ActorCrashed):
            await child.ask(Boom())
        await trio.sleep(0.05)  # the child's supervisor escalated into this start meanwhile
        raise RuntimeError("second start failed")

    async def receive(self, msg: Boom | Get) -> Any:
        match msg:
            case Boom():
                raise RuntimeError("boom")
            case Get():
                return "up"


async def test_an_escalation_during_a_failed_start_does_not_end_the_next_incarnation(
    t: TestRuntime,
) -> None:
    journal = Journal()
    policy = SupervisionConfig(max_restarts=0)  # for its children
    ref = await t.rt.spawn(StartsBadly, journal, name="starts-badly", supervision=policy)
    with pytest.raises(ActorCrashed):
        await ref.ask(Boom())
    await _all_answer([ref])
    await trio.sleep(0.1)
    assert await ref.ask(Get()) == "up"
    assert journal.events == ["start", "start", "start"]
    assert t.rt.stats()["starts-badly"].restarts == 2


TAGS = ("a", "b", "c", "d")


@settings(max_examples=25, deadline=None)
@given(
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]),
    crashing=st.sets(st.sampled_from(TAGS), min_size=1),
    puts=st.integers(0, 3),
    staggered=st.booleans(),
)
def test_simultaneous_crashes_keep_each_strategys_invariants(
    strategy: str, crashing: set[str], puts: int, staggered: bool
) -> None:
    starts, seen = trio.run(_crash_together, strategy, crashing, puts, staggered)
    order = [starts[tag] for tag in TAGS]
    if strategy == "one_for_one":
        assert starts == {tag: 1 + (tag in crashing) for tag in TAGS}
    elif strategy == "one_for_all":
        assert len(set(order)) == 1 and 2 <= order[0] <= 1 + len(crashing)
    else:
        first = min(TAGS.index(tag) for tag in crashing)
        assert order == sorted(order)  # a younger sibling restarts whenever an elder does
        assert all(n == 1 for n in order[:first]) and all(n >= 2 for n in order[first:])
        assert order[-1] <= 1 + len(crashing)
    # every Put accepted after the crashes was handled exactly once
    assert sorted(seen) == sorted((tag, i) for tag in TAGS for i in range(puts))


async def _crash_together(
    strategy: str, crashing: set[str], puts: int, staggered: bool
) -> tuple[dict[str, int], list[tuple[str, int]]]:
    journal = Journal()
    async with open_test_runtime() as t:
        policy = SupervisionConfig(strategy=strategy, max_restarts=100, backoff_base=0)  # type: ignore[arg-type]
        await t.rt.spawn(Quartet, journal, strategy, name="quartet", supervision=policy)
        refs = {tag: t.rt.lookup(tag) for tag in TAGS}
        journal.seen.clear()
        for tag in TAGS:
            ref = refs[tag]
            assert ref is not None
            if tag in crashing:
                await ref.send(Boom())
                if staggered:
                    await trio.lowlevel.checkpoint()
            for i in range(puts):
                await ref.send(Put(sender=tag, seq=i))
        await _all_answer(list(refs.values()))
        await trio.sleep(0.05)  # let a wrong extra restart round show itself
        await _all_answer(list(refs.values()))
    starts = {tag: journal.events.count(f"start {tag}") for tag in TAGS}
    return starts, [(p.sender, p.seq) for p in journal.seen]


class Quartet(Family):
    """Four children, so that rest_for_one has an elder and a younger side."""

    async def on_start(self) -> None:
        policy = SupervisionConfig(
            strategy=self.strategy, max_restarts=100, grace=1.0, backoff_base=0
        )
        for tag in TAGS:
            await self.ctx.spawn(Recorder, self.journal, tag, name=tag, supervision=policy)


class Patient(Actor):
    """Declares a policy for its children that tolerates many crashes."""

    child_supervision = SupervisionConfig(max_restarts=50, within=60.0, backoff_base=0)

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def on_start(self) -> None:
        self.journal.events.append("start patient")
        await self.ctx.spawn(Recorder, self.journal, "kid", name="kid")

    async def receive(self, msg: Any) -> Any:
        return None


async def _crash_kid(t: TestRuntime, times: int) -> None:
    for _ in range(times):
        kid = t.rt.lookup("kid")
        assert kid is not None
        with pytest.raises(ActorCrashed):
            await kid.ask(Boom())
        await _all_answer([kid])


async def test_a_parent_declares_how_it_supervises_its_children(t: TestRuntime) -> None:
    journal = Journal()
    await t.rt.spawn(Patient, journal, name="patient")
    await _crash_kid(t, 10)  # the default policy would have escalated after 3
    assert journal.events.count("start patient") == 1
    assert journal.events.count("start kid") == 11


async def test_a_spawn_option_overrides_the_declared_policy(t: TestRuntime) -> None:
    journal = Journal()
    strict = SupervisionConfig(max_restarts=1, within=60.0, backoff_base=0)
    await t.rt.spawn(Patient, journal, name="patient", supervision=strict)
    await _crash_kid(t, 1)
    kid = t.rt.lookup("kid")
    assert kid is not None
    with pytest.raises(ActorCrashed):
        await kid.ask(Boom())  # the second crash within a minute escalates
    with trio.fail_after(5):
        while journal.events.count("start patient") < 2:
            await trio.sleep(0.01)
