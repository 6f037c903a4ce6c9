from __future__ import annotations

import contextlib
from typing import Any

import pytest
import trio

from runtime import (
    Actor,
    ActorCrashed,
    ActorStopped,
    RestartIntensityExceeded,
    SupervisionConfig,
    open_runtime,
)
from runtime.testing import TestRuntime, open_test_runtime, test_config
from tests.runtime.actors_for_tests import Boom, Get, Journal, Put, Recorder, Sleep


async def test_restart_keeps_ref_and_remaining_mailbox(t: TestRuntime) -> None:
    journal = Journal()
    ref = await t.rt.spawn(Recorder, journal, name="keeper", mailbox=16)
    await ref.send(Sleep(seconds=0.05))
    await ref.send(Boom())
    for seq in range(5):
        await ref.send(Put(sender="s", seq=seq))
    got = await ref.ask(Get(), timeout=2)  # the new incarnation handled the rest
    assert [p.seq for p in got] == list(range(5))
    assert t.rt.lookup("keeper") is ref
    stats = t.rt.stats()["keeper"]
    assert (stats.restarts, stats.failed) == (1, 1)
    assert journal.events == ["start r", "stop r", "start r"]


class Parent(Actor):
    """Spawns children a, b, c under the given strategy; journals their lifecycles."""

    def __init__(self, journal: Journal, strategy: Any, restart: Any = "permanent") -> None:
        self.journal = journal
        self.strategy = strategy
        self.restart = restart

    async def on_start(self) -> None:
        self.journal.events.append("start parent")
        policy = SupervisionConfig(
            strategy=self.strategy, max_restarts=3, grace=1.0, backoff_base=0
        )
        for tag in ("a", "b", "c"):
            await self.ctx.spawn(
                Recorder, self.journal, tag, name=tag, restart=self.restart, supervision=policy
            )
        self.journal.events.append("parent ready")

    async def on_stop(self) -> None:
        self.journal.events.append("stop parent")

    async def receive(self, msg: Any) -> Any:
        return None


def _policy(strategy: str) -> SupervisionConfig:
    return SupervisionConfig(strategy=strategy, max_restarts=3, grace=1.0, backoff_base=0)  # type: ignore[arg-type]


async def _spawn_family(t: TestRuntime, strategy: str) -> Journal:
    journal = Journal()
    await t.rt.spawn(Parent, journal, strategy, name="parent", supervision=_policy(strategy))
    journal.events.clear()
    return journal


async def _crash(t: TestRuntime, name: str) -> None:
    ref = t.rt.lookup(name)
    assert ref is not None
    with pytest.raises(ActorCrashed):
        await ref.ask(Boom())
    for other in ("a", "b", "c"):  # wait until every child is back and answering
        target = t.rt.lookup(other)
        assert target is not None
        await target.ask(Get(), timeout=2)


async def test_one_for_one_restarts_only_the_crashed_child(t: TestRuntime) -> None:
    journal = await _spawn_family(t, "one_for_one")
    await _crash(t, "b")
    assert journal.events == ["stop b", "start b"]


async def test_one_for_all_restarts_all_children_in_order(t: TestRuntime) -> None:
    journal = await _spawn_family(t, "one_for_all")
    await _crash(t, "b")
    assert journal.events == ["stop b", "stop c", "stop a", "start a", "start b", "start c"]


async def test_rest_for_one_restarts_younger_siblings(t: TestRuntime) -> None:
    journal = await _spawn_family(t, "rest_for_one")
    await _crash(t, "b")
    assert journal.events == ["stop b", "stop c", "start b", "start c"]


async def test_children_stop_in_reverse_order_before_parent(t: TestRuntime) -> None:
    journal = await _spawn_family(t, "one_for_one")
    parent = t.rt.lookup("parent")
    assert parent is not None
    await t.rt.stop(parent)
    assert journal.events == ["stop c", "stop b", "stop a", "stop parent"]
    assert t.rt.lookup("a") is None


async def test_runtime_shutdown_stops_in_reverse_start_order() -> None:
    journal = Journal()
    async with open_test_runtime() as t:
        for tag in ("x", "y", "z"):
            await t.rt.spawn(Recorder, journal, tag, name=tag)
        journal.events.clear()
    assert journal.events == ["stop z", "stop y", "stop x"]


async def test_transient_and_temporary_children(t: TestRuntime) -> None:
    journal = Journal()
    temp = await t.rt.spawn(Recorder, journal, "t", name="temp", restart="temporary")
    with pytest.raises(ActorCrashed):
        await temp.ask(Boom())
    with trio.fail_after(1):
        while temp.alive:
            await trio.sleep(0.001)
    with pytest.raises(ActorStopped):
        await temp.ask(Get())
    trans = await t.rt.spawn(Recorder, journal, "tr", name="trans", restart="transient")
    with pytest.raises(ActorCrashed):
        await trans.ask(Boom())
    assert await trans.ask(Get(), timeout=1) == []  # restarted after a crash


class Quitter(Actor):
    async def receive(self, msg: Any) -> Any:
        await self.ctx.stop()
        return "bye"


async def test_normal_exit_restarts_only_permanent_children(t: TestRuntime) -> None:
    perm = await t.rt.spawn(Quitter, name="perm", restart="permanent")
    trans = await t.rt.spawn(Quitter, name="trans2", restart="transient")
    assert await perm.ask("x") == "bye"
    assert await trans.ask("x") == "bye"
    assert await perm.ask("x", timeout=1) == "bye"  # restarted
    with trio.fail_after(1):
        while trans.alive:
            await trio.sleep(0.001)


class FailsToStart(Actor):
    async def on_start(self) -> None:
        raise OSError("port in use")


async def test_spawn_raises_when_first_start_fails(t: TestRuntime) -> None:
    with pytest.raises(ActorCrashed) as info:
        await t.rt.spawn(FailsToStart, name="nope")
    assert isinstance(info.value.__cause__, OSError)
    assert t.rt.lookup("nope") is None


async def test_intensity_escalates_through_parent_to_root() -> None:
    journal = Journal()
    config = test_config()
    with pytest.raises(RestartIntensityExceeded) as info:
        async with open_test_runtime(config) as t:
            await t.rt.spawn(
                Parent,
                journal,
                "one_for_one",
                name="parent",
                supervision=_policy("one_for_one"),
            )
            with trio.fail_after(5):
                while True:  # keep crashing child a until the whole tree gives up
                    ref = t.rt.lookup("a")
                    if ref is not None:
                        with contextlib.suppress(ActorCrashed, ActorStopped):
                            await ref.ask(Boom())
                    await trio.sleep(0.001)
    assert "'parent'" in str(info.value) or "'a'" in str(info.value)
    assert journal.events.count("start parent") == 4  # 1 + 3 restarts at the root


async def test_cancelling_the_runtime_leaves_no_task_behind() -> None:
    def count_tasks() -> int:
        root = trio.lowlevel.current_root_task()
        assert root is not None
        todo, seen = [root], 0
        while todo:
            task = todo.pop()
            seen += 1
            for nursery in task.child_nurseries:
                todo.extend(nursery.child_tasks)
        return seen

    before = count_tasks()
    journal = Journal()
    with trio.move_on_after(0.2):
        async with open_runtime() as rt:
            for i in range(20):
                await rt.spawn(Recorder, journal, str(i), name=f"r{i}")
            await rt.spawn(Parent, journal, "one_for_all", name="parent")
            await trio.sleep_forever()
    assert count_tasks() == before
    assert journal.events.count("stop parent") == 1
