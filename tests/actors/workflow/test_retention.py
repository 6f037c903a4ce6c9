"""``keep_runs_for``: finished runs are deleted that long after their last save; runs that
may still continue are kept, in the store and in memory alike."""

from __future__ import annotations

import pytest
import trio

from actors.workflow import WorkflowRef
from runtime import ActorRef, Mastra
from tests.actors.workflow._flows import known, suspends_when_negative

FLOW = suspends_when_negative("kept")


async def _check_retention(wf: WorkflowRef) -> None:
    done = await wf.start({"value": 1})
    waiting = await wf.start({"value": -1})
    assert (done.status, waiting.status) == ("success", "suspended")
    with trio.fail_after(10):
        while await known(wf, done.run_id):
            await trio.sleep(0.05)
    await trio.sleep(0.5)  # several more passes: the suspended run stays
    assert (await wf.get_run(waiting.run_id)).status == "suspended"
    resumed = await wf.resume(waiting.run_id, {})
    assert resumed.status == "success"
    page = await wf.list_runs()
    assert page.total == len(page.runs) <= 1  # the resumed run, unless deleted already


async def test_finished_runs_in_the_store_are_deleted(rt: Mastra, store: ActorRef) -> None:
    await _check_retention(await rt.spawn(FLOW.deploy(store="store", keep_runs_for=0.2)))


async def test_finished_runs_in_memory_are_deleted(rt: Mastra) -> None:
    await _check_retention(await rt.spawn(FLOW.deploy(keep_runs_for=0.2)))


def test_keep_runs_for_must_be_a_positive_number_of_seconds() -> None:
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="keep_runs_for must be a positive number"):
            FLOW.deploy(keep_runs_for=bad)
