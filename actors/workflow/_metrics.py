"""A workflow's run metrics, through the runtime's OpenTelemetry meter.

- ``workflow.runs.active`` (up-down counter): runs being executed now;
- ``workflow.runs`` (counter): run executions that stopped, by the status they stopped in
  (``workflow.run.status``); a suspended run that is resumed counts again when it stops;
- ``workflow.run.duration`` (histogram, seconds): one execution, from its start or resume
  until it stopped.

Every measurement carries ``workflow.id``. With metrics off (a no-op meter) nothing is
measured and nothing is built.
"""

from __future__ import annotations

import time

from opentelemetry.metrics import Meter, NoOpMeter

__all__ = ["RunMetrics"]


class RunMetrics:
    """Counts one workflow's runs as they start and stop."""

    def __init__(self, meter: Meter, workflow_id: str) -> None:
        self._on = not isinstance(meter, NoOpMeter)
        self._attributes = {"workflow.id": workflow_id}
        self._active = meter.create_up_down_counter(
            "workflow.runs.active", unit="{run}", description="Workflow runs being executed"
        )
        self._stopped = meter.create_counter(
            "workflow.runs",
            unit="{run}",
            description="Workflow run executions that stopped, by the status they stopped in",
        )
        self._duration = meter.create_histogram(
            "workflow.run.duration",
            unit="s",
            description="Duration of one workflow run execution, from its start or resume",
        )

    def started(self) -> float:
        """Count a run as active; returns its start time for ``stopped``."""
        if not self._on:
            return 0.0
        self._active.add(1, self._attributes)
        return time.perf_counter()

    def stopped(self, started: float, status: str | None) -> None:
        """Count a run as no longer active and, unless ``status`` is None (it never ran),
        record its execution."""
        if not self._on:
            return
        self._active.add(-1, self._attributes)
        if status is not None:
            attributes = {**self._attributes, "workflow.run.status": status}
            self._stopped.add(1, attributes)
            self._duration.record(time.perf_counter() - started, attributes)
