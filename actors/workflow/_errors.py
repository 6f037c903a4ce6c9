"""The workflow errors, documented in one place.

```
WorkflowError                       base of every error a workflow raises to its caller
├── WorkflowDefinitionError (ValueError)
│                                   commit() rejected the graph: a cycle, a missing dependency,
│                                   a duplicate id or mismatched step schemas (names the steps)
├── SchemaViolation (ValueError)    workflow input, resume data, a suspend payload or a step's
│                                   input/output failed its schema (names the step and field)
├── RunNotFound (LookupError)       no run with that id exists for the workflow
└── InvalidRunState                 the run cannot do that now (resume a run that is not
                                    suspended, start a run twice, resume an unknown step)
```

The workflow actor lists ``WorkflowError`` in ``expected_errors``: a caller gets these as
they are and the actor keeps running.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidRunState",
    "RunNotFound",
    "SchemaViolation",
    "WorkflowDefinitionError",
    "WorkflowError",
]


class WorkflowError(Exception):
    """Base class of every error a workflow raises to its caller."""


class WorkflowDefinitionError(WorkflowError, ValueError):
    """``commit()`` rejected the workflow; the message names the steps involved."""


class SchemaViolation(WorkflowError, ValueError):
    """A value failed its schema at a step boundary.

    ``step`` is the step id (``None`` for the workflow's own input or output), ``role`` says
    which value (``input``, ``output``, ``resume data``, ``suspend payload``), ``field`` is
    the path inside the value (``value``, ``items[2].name``; empty for the whole value) and
    ``issues`` holds ``{"path", "message"}`` records for an HTTP 400 body.
    """

    def __init__(self, step: str | None, role: str, field: str, message: str) -> None:
        self.step = step
        self.role = role
        self.field = field
        self.detail = message
        self.issues: list[dict[str, Any]] = [{"path": field, "message": message}]
        where = "workflow" if step is None else f"step {step!r}"
        at = f" at `{field}`" if field else ""
        super().__init__(f"{where}: invalid {role}{at}: {message}")


class RunNotFound(WorkflowError, LookupError):
    """No run with that id exists for the workflow."""


class InvalidRunState(WorkflowError):
    """The run is not in a state that allows the request (for example not suspended)."""
