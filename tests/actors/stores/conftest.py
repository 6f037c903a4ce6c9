from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime import Mastra, RuntimeConfig, TelemetryConfig, open_runtime


@pytest.fixture
async def rt() -> AsyncIterator[Mastra]:
    config = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
    async with open_runtime(config) as runtime:
        yield runtime
