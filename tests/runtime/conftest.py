from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime.testing import TestRuntime, open_test_runtime


@pytest.fixture
async def t() -> AsyncIterator[TestRuntime]:
    async with open_test_runtime() as test_runtime:
        yield test_runtime
