"""A step actor whose execution crashes fails that execution only; the run retries per step.
A step without retries runs inline, and a failure of its execution fails only that step."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
import pytest
import trio

from actors.workflow import Workflow, step
from actors.workflow._step_actor import RunStep, StepActor, StepOutcome
from runtime import Mastra


class Value(msgspec.Struct):
    value: int


@pytest.fixture
def crashes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Make the step actor of ``fragile`` crash (a bug outside the step's function) while
    ``crashes["left"]`` is positive; counts crashes and step actor starts."""
    counts: Counter[str] = Counter()
    execute, on_start = StepActor.execute, StepActor.on_start

    async def crashing_execute(self: StepActor, msg: RunStep) -> StepOutcome:
        if self.step.id == "fragile" and counts["left"] > 0:
            counts["left"] -= 1
            counts["crashed"] += 1
            raise RuntimeError("step actor state is broken")
        return await execute(self, msg)

    async def counting_start(self: StepActor) -> None:
        counts[f"started {self.step.id}"] += 1
        await on_start(self)

    monkeypatch.setattr(StepActor, "execute", crashing_execute)
    monkeypatch.setattr(StepActor, "on_start", counting_start)
    return counts


def _flow(retries: int) -> Workflow:
    def add(ctx: Any) -> Value:
        return Value(ctx.input_data.value + 1)

    fragile = step("fragile", Value, Value, add, retries=retries, retry_delay=0.01)
    return Workflow("w", Value, Value).then(step("first", Value, Value, add)).then(fragile).commit()


async def test_a_crashed_step_execution_is_retried_by_the_same_actor(
    rt: Mastra, crashes: Counter[str]
) -> None:
    wf = await rt.spawn(_flow(retries=1))
    crashes["left"] = 1
    with trio.fail_after(5):
        result = await wf.start({"value": 1})
    assert result.status == "success" and result.result == {"value": 3}
    assert result.steps["fragile"].retry_count == 1
    assert crashes["crashed"] == 1
    # only a step with retries has an actor; ``first`` runs inline in the run's task
    # one crashed message does not restart a concurrent actor
    assert crashes["started fragile"] == 1 and crashes["started first"] == 0


async def test_crashes_beyond_the_retries_fail_the_step_without_hanging(
    rt: Mastra, crashes: Counter[str]
) -> None:
    wf = await rt.spawn(_flow(retries=2))
    crashes["left"] = 3
    with trio.fail_after(5):
        result = await wf.start({"value": 1})
    assert result.status == "failed" and crashes["crashed"] == 3
    record = result.steps["fragile"]
    assert record.status == "failed" and "step actor failed" in (record.error or "")
    assert "step actor state is broken" in (record.error or "")
    assert record.retry_count == 2
    assert result.steps["first"].status == "success"
    with trio.fail_after(5):  # the workflow and its step actors keep serving runs
        assert (await wf.start({"value": 5})).result == {"value": 7}


async def test_an_inline_step_whose_execution_breaks_fails_only_that_run(
    rt: Mastra, monkeypatch: pytest.MonkeyPatch
) -> None:
    import actors.workflow._step_actor as step_actor

    execute = step_actor.execute_step
    broken = Counter[str]()

    async def breaking(s: Any, init: Any, runtime: Any, msg: RunStep) -> StepOutcome:
        if s.id == "fragile" and broken["left"] > 0:
            broken["left"] -= 1
            raise RuntimeError("execution state is broken")
        return await execute(s, init, runtime, msg)

    monkeypatch.setattr(step_actor, "execute_step", breaking)
    wf = await rt.spawn(_flow(retries=0))
    broken["left"] = 1
    with trio.fail_after(5):
        result = await wf.start({"value": 1})
    record = result.steps["fragile"]
    assert result.status == "failed" and record.status == "failed"
    assert "step actor failed" in (record.error or "")
    assert "execution state is broken" in (record.error or "")
    with trio.fail_after(5):
        assert (await wf.start({"value": 5})).result == {"value": 7}
