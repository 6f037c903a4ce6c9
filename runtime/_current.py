"""Context variables that tell kernel code which actor and which envelope it runs for."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime._cell import Cell
    from runtime._mailbox import Envelope

__all__ = ["current_cell", "current_envelope", "in_background"]

current_cell: ContextVar[Cell | None] = ContextVar("runtime_current_cell", default=None)
"""The actor whose task is running (None outside actors)."""

current_envelope: ContextVar[Envelope | None] = ContextVar("runtime_current_envelope", default=None)
"""The envelope being handled by the current task (None between messages)."""

in_background: ContextVar[bool] = ContextVar("runtime_in_background", default=False)
"""True in an actor's background tasks (``Context.nursery``), which handle no message."""
