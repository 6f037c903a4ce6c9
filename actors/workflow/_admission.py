"""Run admission: which run ids are taken, and the bound on runs active at once.

A workflow actor admits a run in two steps. ``claim`` reserves its id while the start is
checked against the store (so a second start of the same id is refused, not run twice);
``enter`` takes one of ``max_active_runs`` slots, waiting while none is free, which holds the
caller's acknowledgement back and so slows a flood of starts down instead of growing memory.
``leave`` gives the slot back when the run stops (``idle`` waits for the last). Runs
recovered at start are ``reserve``d together and ``release``d one by one as they are
registered; ``released`` lets a caller (a wait or cancel of such a run) wait for that.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from contextlib import contextmanager

import trio

from actors.workflow._errors import InvalidRunState

__all__ = ["Admission"]


class Admission:
    """Claimed run ids and the slots of active runs of one workflow actor."""

    def __init__(self, max_active_runs: int) -> None:
        self._slots = trio.Semaphore(max_active_runs)
        self._max = max_active_runs
        self._claims: dict[str, trio.Event] = {}
        self._idle: trio.Event | None = None  # set when the last slot taken is given back

    def taken(self, run_id: str, active: Container[str]) -> bool:
        """Whether ``run_id`` is active or claimed by a start or resume in progress."""
        return run_id in active or run_id in self._claims

    @contextmanager
    def claim(self, run_id: str, active: Container[str], refusal: str) -> Iterator[None]:
        """Hold ``run_id`` for the block; raise ``InvalidRunState(refusal)`` if it is taken.

        The claim is released when the block ends, whether it registered the run or failed.
        """
        if self.taken(run_id, active):
            raise InvalidRunState(refusal)
        self.reserve(run_id)
        try:
            yield
        finally:
            self.release(run_id)

    def reserve(self, run_id: str) -> None:
        """Claim ``run_id`` until ``release`` (the caller checked it was not taken)."""
        self._claims[run_id] = trio.Event()

    def release(self, run_id: str) -> None:
        """End the claim on ``run_id`` (nothing if there is none) and wake its waiters."""
        event = self._claims.pop(run_id, None)
        if event is not None:
            event.set()

    async def released(self, run_id: str) -> None:
        """Wait until ``run_id`` is not claimed (at once if it is not)."""
        event = self._claims.get(run_id)
        if event is not None:
            await event.wait()

    async def enter(self) -> None:
        """Take a slot, waiting while every one is taken. Cancellation takes none."""
        try:
            self._slots.acquire_nowait()  # no schedule point while a slot is free
        except trio.WouldBlock:
            await self._slots.acquire()

    def leave(self) -> None:
        """Give back a slot taken with ``enter``."""
        self._slots.release()
        if self._idle is not None and self._slots.value == self._max:
            self._idle.set()
            self._idle = None

    async def idle(self) -> None:
        """Wait until no slot is taken (at once if none is)."""
        while self._slots.value < self._max:
            if self._idle is None:
                self._idle = trio.Event()
            await self._idle.wait()
