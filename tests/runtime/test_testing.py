from __future__ import annotations

import trio

from runtime.testing import open_test_runtime, spawn_probe


async def test_probe_records_messages_and_senders_and_replies() -> None:
    async with open_test_runtime() as t:
        probe, seen = await spawn_probe(t.rt, "probe", reply=lambda m: f"got {m}")
        await probe.send("hello")
        assert await probe.ask("again") == "got again"
        with trio.fail_after(1):
            assert await seen.wait_for(2) == ["hello", "again"]
        assert seen.senders == [None, None]
        assert "probe str" in t.spans.names()
