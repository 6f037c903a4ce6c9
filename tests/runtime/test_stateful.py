"""Random sequences of sends, asks, crashes and group restarts never lose an accepted message."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.lowlevel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime import Actor, ActorCrashed, MailboxFull, SupervisionConfig
from runtime.testing import open_test_runtime
from tests.runtime.actors_for_tests import Boom, Get, Journal, Put, Recorder

POLICY = SupervisionConfig(
    strategy="one_for_all", max_restarts=10_000, within=1.0, grace=1.0, backoff_base=0.0
)


class Pair(Actor):
    """Supervises ``ledger`` and ``sibling`` under one_for_all."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def on_start(self) -> None:
        await self.ctx.spawn(Recorder, self.journal, "ledger", name="ledger", mailbox=4)
        await self.ctx.spawn(Recorder, Journal(), "sibling", name="sibling")

    async def receive(self, msg: Any) -> None:
        return None


operations = st.lists(
    st.sampled_from(["send", "ask", "nowait", "tell_boom", "ask_boom", "sibling_boom", "pause"]),
    min_size=1,
    max_size=60,
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
async def test_no_accepted_message_is_lost(ops: list[str]) -> None:
    journal = Journal()
    accepted: list[int] = []
    async with open_test_runtime() as t:
        await t.rt.spawn(Pair, journal, name="pair", supervision=POLICY)
        ledger, sibling = t.rt.lookup("ledger"), t.rt.lookup("sibling")
        assert ledger is not None and sibling is not None
        with trio.fail_after(10):
            for seq, op in enumerate(ops):
                msg = Put(sender="p", seq=seq)
                if op == "send":
                    await ledger.send(msg)
                    accepted.append(seq)
                elif op == "ask":
                    await ledger.ask(msg)
                    accepted.append(seq)
                elif op == "nowait":
                    try:
                        ledger.send_nowait(msg)
                        accepted.append(seq)
                    except MailboxFull:
                        pass
                elif op == "tell_boom":
                    await ledger.send(Boom())
                elif op == "ask_boom":
                    with pytest.raises(ActorCrashed):
                        await ledger.ask(Boom())
                elif op == "sibling_boom":
                    await sibling.send(Boom())
                else:
                    await trio.lowlevel.checkpoint()
            await ledger.ask(Get())  # everything accepted before this has been handled
    assert [p.seq for p in journal.seen] == accepted
