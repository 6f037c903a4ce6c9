from __future__ import annotations

import logging

import pytest

from examples import counter


async def test_counter_example_runs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        lines = await counter.main()
    assert lines == [
        "count = 3",
        "crashed: asked to fail",
        "after restart = 0",
        "handled=4 failed=1 restarts=1",
    ]
