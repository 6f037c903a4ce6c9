"""A cell holds one actor across its incarnations: mailbox, ref, counters, runner task.

The runner task lives in the runtime's nursery. It builds an incarnation (a fresh actor
instance), runs its message loop until it crashes, exits or is stopped, tears it down
(children in reverse order, then ``on_stop``), and asks the parent supervisor what next.

The lifecycle is one state machine; every change of ``state`` goes through ``_enter``,
which refuses a transition not in this table:

=========  ==========================  =====================================================
from       to                          when
=========  ==========================  =====================================================
starting   running                     ``on_start`` returned
starting   ending                      ``on_start`` raised or was cancelled
running    ending                      a crash (one that restarts), ``ctx.stop()``, a stop
                                       request, an escalation from a child supervisor
ending     stopped                     shutdown, a ``temporary``/``transient`` end, the
                                       supervisor escalated, or the first start failed
ending     backoff                     the supervisor restarts this actor alone
ending     parked                      a group restart (``one_for_all``/``rest_for_one``)
                                       was requested by this crash or stopped this actor
backoff    starting                    the backoff delay passed
backoff    parked                      a group restart caught this actor in its backoff
backoff    stopped                     shutdown
parked     starting                    the group restart let it go (``go``)
parked     stopped                     shutdown
=========  ==========================  =====================================================

Requests from other tasks never change ``state`` themselves: ``request_stop`` records a
stop mode for the incarnation in progress (``starting``, ``running``, ``ending``; consumed
when it ends), a restart request on a ``backoff`` cell wakes it to park, on a ``parked``
cell it does nothing (it already waits for ``go``), and a shutdown wakes a parked or
backing-off cell to stop. ``crash`` (an escalation) only counts while ``starting`` or
``running`` and never outlives the incarnation it was meant for.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Literal

import trio

from runtime._actor import Actor, ActorNursery, Context, accepted_messages
from runtime._current import current_cell, current_envelope, in_background
from runtime._errors import ActorStopped
from runtime._handling import MessageLoop
from runtime._mailbox import Envelope, Mailbox
from runtime._ref import ActorRef

if TYPE_CHECKING:
    from runtime._root import Mastra
    from runtime._spawn import ChildSpec
    from runtime._supervisor import Supervisor

__all__ = ["Cell", "State"]

log = logging.getLogger("runtime.supervisor")

StopMode = Literal["shutdown", "restart", "normal"]
State = Literal["starting", "running", "ending", "backoff", "parked", "stopped"]

_TRANSITIONS: dict[State, frozenset[State]] = {
    "starting": frozenset({"running", "ending"}),
    "running": frozenset({"ending"}),
    "ending": frozenset({"stopped", "backoff", "parked"}),
    "backoff": frozenset({"starting", "parked", "stopped"}),
    "parked": frozenset({"starting", "stopped"}),
    "stopped": frozenset(),
}
_STATUS: dict[State, str] = {
    "starting": "starting",
    "running": "running",
    "ending": "stopping",
    "backoff": "restarting",
    "parked": "restarting",
    "stopped": "stopped",
}


def _unwrap(exc: Exception) -> Exception:
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class Cell(MessageLoop):
    """One supervised actor: identity, mailbox and counters that survive restarts."""

    __slots__ = (
        "_children",
        "_ended",
        "_entered_running",
        "_finished",
        "_go",
        "_park_scope",
        "_pending_error",
        "_ready",
        "_restarted_at",
        "_scope",
        "accepts",
        "instance",
        "parent",
        "ref",
        "restarts",
        "runtime",
        "spec",
        "state",
    )

    def __init__(self, runtime: Mastra, spec: ChildSpec, parent: Supervisor) -> None:
        super().__init__(Mailbox(spec.mailbox, spec.name), spec.name, spec.concurrency)
        self.runtime = runtime
        self.spec = spec
        self.parent = parent
        self.tracing = runtime.tracing
        self.kind = spec.kind
        self.ref = ActorRef(self)
        self.instance: Actor | None = None
        self.accepts: tuple[type, ...] | None = None
        self.state: State = "starting"
        self.restarts = 0
        self._restarted_at: deque[float] | None = None  # made at the first restart
        self._children: Supervisor | None = None
        self._entered_running = False
        self._stop_mode: StopMode | None = None
        self._scope: trio.CancelScope | None = None
        self._park_scope: trio.CancelScope | None = None
        self._pending_error: BaseException | None = None
        self._ended: trio.Event | None = None
        self._finished: trio.Event | None = None
        self._go: trio.Event | None = None
        self._ready: trio.Event | None = None

    # -- identity ------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """The state as reported in stats: starting, running, stopping, restarting, stopped."""
        return _STATUS[self.state]

    @property
    def alive(self) -> bool:
        return not self.mailbox.closed

    def recent_restarts(self, within: float) -> int:
        """How many restarts happened in the last ``within`` seconds (at most 64 counted)."""
        if self._restarted_at is None:
            return 0
        since = trio.current_time() - within
        return sum(1 for at in self._restarted_at if at >= since)

    def envelope(self) -> Envelope | None:
        """The envelope being handled by the calling task of this actor, if any (never one
        of the main loop's for a background task)."""
        if self.concurrency == 1:
            return None if in_background.get() else self._env
        return current_envelope.get()

    def supervisor(self) -> Supervisor:
        """This actor's own supervisor for its children (created on first use)."""
        if self._children is None:
            from runtime._supervisor import Supervisor

            self._children = Supervisor(self.runtime, self.spec.supervision, owner=self)
        return self._children

    def _enter(self, state: State) -> None:
        if state not in _TRANSITIONS[self.state]:
            raise RuntimeError(f"actor {self.name!r}: no transition from {self.state} to {state}")
        self.state = state

    # -- runner --------------------------------------------------------------------------
    async def run(self, *, task_status: trio.TaskStatus[BaseException | None]) -> None:
        """The cell's task: incarnate, supervise restarts, finalize. Never raises ``Exception``.

        ``task_status.started`` receives None once ``on_start`` finished, or the error that
        prevented the first start (then the cell is finalized and not restarted).
        """
        current_cell.set(self)
        try:
            reason, started = await self._incarnate(task_status)
            if not started:
                return
            while await self._next_incarnation(reason):
                self.restarts += 1
                if self._restarted_at is None:
                    self._restarted_at = deque(maxlen=64)
                self._restarted_at.append(trio.current_time())
                reason, _ = await self._incarnate(None)
        finally:
            self._finalize()

    async def _next_incarnation(self, reason: BaseException | None) -> bool:
        """From ``ending``: decide and wait for the next incarnation; False means stop."""
        mode = self._stop_mode
        if mode != "shutdown":
            self._stop_mode = None  # the request belonged to the incarnation that ended
        if mode == "shutdown" or not self.alive:
            return False
        if mode == "restart" or self._go is not None:
            return await self._park()
        decision = self.parent.decide(self, reason)
        if decision == "stop":
            return False
        if decision == "escalate":
            self.parent.escalate(self, reason)
            return False
        if decision == "group":
            self._go = trio.Event()
            self.parent.request_group_restart(self)
            return await self._park()
        return await self._backoff(self.parent.backoff_delay())

    async def _park(self) -> bool:
        """Wait in ``parked`` for the group restart's ``go`` (or a shutdown)."""
        self._enter("parked")
        go = self._go
        if go is not None:
            await go.wait()
            self._go = None
        return self._stop_mode != "shutdown"

    async def _backoff(self, delay: float) -> bool:
        self._enter("backoff")
        if delay > 0:
            with trio.CancelScope() as scope:
                self._park_scope = scope
                await trio.sleep(delay)
            self._park_scope = None
        if self._stop_mode == "shutdown":
            return False
        if self._go is not None:  # a group restart caught it: start with its siblings
            return await self._park()
        return True

    def _announce(
        self, task_status: trio.TaskStatus[BaseException | None] | None, error: BaseException | None
    ) -> None:
        """Tell whoever waits for this incarnation's start (spawn, or a group restart)."""
        if task_status is not None:
            task_status.started(error)
            return
        ready = self._ready
        if ready is not None:
            self._ready = None
            ready.set()

    # -- one incarnation -----------------------------------------------------------------
    async def _incarnate(
        self, task_status: trio.TaskStatus[BaseException | None] | None
    ) -> tuple[BaseException | None, bool]:
        """Run one incarnation to its end: (why it ended or None, whether on_start finished)."""
        if self.state != "starting":
            self._enter("starting")
        self._children = None  # as in OTP, each incarnation supervises afresh
        self.crash_cause = None
        self._entered_running = False
        error: BaseException | None = None
        actor: Actor | None = None
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                try:
                    actor = self.instance = self.spec.factory(*self.spec.args)
                    self._adopt(actor)
                    await self._live(actor, scope, task_status)
                except Exception as exc:
                    error = _unwrap(exc)
            self._scope = None
            started = self._entered_running
            pending, self._pending_error = self._pending_error, None
            if error is None:
                error = pending
            if not started:
                self._announce(task_status, error or ActorStopped(f"{self.name!r} stopped"))
        finally:
            if actor is not None:
                with trio.CancelScope(shield=True):  # bounded: each step has a grace period
                    await self._teardown(actor)
            elif self.state == "starting":  # the factory itself failed
                self._enter("ending")
        return error, started

    def _adopt(self, actor: Actor) -> None:
        """Read how this incarnation's class wants its messages handled."""
        cls = type(actor)
        declared = cls.restart_on_crash
        self.restart_on_crash = self.concurrency == 1 if declared is None else declared
        self.expected_errors = cls.expected_errors
        self.accepts = accepted_messages(cls)

    async def _live(
        self,
        actor: Actor,
        scope: trio.CancelScope,
        task_status: trio.TaskStatus[BaseException | None] | None,
    ) -> None:
        """Start the incarnation and handle messages until it ends."""
        if self.concurrency == 1 and not actor.uses_nursery:
            actor.ctx = Context(self, None)
            await actor.on_start()
            self._running(scope, task_status)
            await self.loop(actor)
            return
        async with trio.open_nursery() as nursery:
            actor.ctx = Context(self, ActorNursery(nursery, self._background_crashed))
            await actor.on_start()
            self._running(scope, task_status)
            await self.loop_concurrent(actor)
            # on_stop runs while background tasks still live, so it can ask them to finish
            # gracefully; then whatever is left is cancelled.
            with trio.CancelScope(shield=True):
                await self._wind_down(actor)
            nursery.cancel_scope.cancel()

    def _background_crashed(self, exc: Exception) -> None:
        self.crash_cause = exc

    def _running(
        self, scope: trio.CancelScope, task_status: trio.TaskStatus[BaseException | None] | None
    ) -> None:
        # From here on only stop() ends this incarnation, so that a cancelled runtime still
        # stops its actors in reverse start order (open_runtime's shutdown).
        scope.shield = True
        self._enter("running")
        self._entered_running = True
        self._announce(task_status, None)
        if self._pending_error is not None:  # escalated into while starting
            scope.cancel()

    async def _wind_down(self, actor: Actor) -> None:
        """Stop the children in reverse order, then run ``on_stop`` within the grace period."""
        if self.instance is not actor:
            return  # already wound down
        self._enter("ending")
        self.instance = None
        if self._children is not None:
            await self._children.stop_all()
        with trio.move_on_after(self.spec.supervision.grace):
            try:
                await actor.on_stop()
            except Exception:
                log.exception("on_stop of actor %r raised", self.name)

    async def _teardown(self, actor: Actor) -> None:
        await self._wind_down(actor)
        ended = self._ended
        if ended is not None:
            self._ended = None
            ended.set()

    # -- stopping ------------------------------------------------------------------------
    def request_stop(self, mode: StopMode = "normal") -> None:
        """Ask the incarnation in progress to end after its current message (no waiting);
        see the module's table for what it does in the other states."""
        state = self.state
        if state == "stopped":
            return
        if mode == "shutdown":
            self._stop_mode = "shutdown"
            if self._go is not None:
                self._go.set()
        elif state in ("backoff", "parked"):
            if mode == "restart" and self._go is None:
                self._go = trio.Event()  # wakes from its backoff to park
        elif self._stop_mode != "shutdown":
            self._stop_mode = mode
        self.mailbox.wake()
        if self._park_scope is not None:
            self._park_scope.cancel()

    def crash(self, error: BaseException) -> None:
        """End the current incarnation as a crash with ``error`` (used for escalation).

        An incarnation still in ``on_start`` is cancelled as soon as ``on_start`` returns,
        never while it may be starting a child. Ignored once the incarnation is ending.
        """
        if self.state not in ("starting", "running"):
            return
        self._pending_error = error
        if self._scope is not None and self.state == "running":
            self._scope.cancel()

    async def stop(self, mode: StopMode = "shutdown") -> None:
        """Stop gracefully: finish the current message, stop children, run ``on_stop``.

        After the supervisor's grace period the incarnation is cancelled. With ``"shutdown"``
        this waits until the cell is finalized (queued asks fail with ``ActorStopped``); with
        ``"restart"`` only until the incarnation ended and the runner waits for ``go`` (at
        once for a cell already parked or backing off).
        """
        if not self.alive:
            return
        if mode == "restart":
            if self.state in ("backoff", "parked"):
                self.request_stop("restart")
                return
            if self._go is None:
                self._go = trio.Event()
            if self._ended is None:
                self._ended = trio.Event()
            event = self._ended
        else:
            if self._finished is None:
                self._finished = trio.Event()
            event = self._finished
        self.request_stop(mode)
        with trio.move_on_after(self.spec.supervision.grace):
            await event.wait()
        if not event.is_set():
            if self._scope is not None:
                self._scope.cancel()
            await event.wait()

    def go(self) -> trio.Event:
        """Let a parked runner start its next incarnation; returns its readiness event."""
        ready = trio.Event()
        if self._go is None:  # not parked: nothing to start
            ready.set()
            return ready
        self._ready = ready
        self._go.set()
        return ready

    def _finalize(self) -> None:
        if self.state == "stopped":
            return
        self.state = "stopped"
        for env in self.mailbox.close():
            env.fail(
                ActorStopped(
                    f"actor {self.name!r} stopped before handling {type(env.msg).__name__}"
                )
            )
        self.runtime._unregister(self)
        self.parent.forget(self)
        self._announce(None, None)
        if self._finished is not None:
            self._finished.set()
