"""A cell holds one actor across its incarnations: mailbox, ref, counters, runner task.

The runner task lives in the runtime's nursery. It builds an incarnation (a fresh actor
instance), runs its message loop until it crashes, exits or is stopped, tears it down
(children in reverse order, then ``on_stop``), and asks the parent supervisor what next.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Literal

import trio

from runtime._actor import Actor, Context
from runtime._current import current_cell, current_envelope
from runtime._errors import ActorCrashed, ActorStopped, AskTimeout, StreamClosed
from runtime._mailbox import Envelope, Mailbox
from runtime._ref import ActorRef

if TYPE_CHECKING:
    from runtime._root import Mastra
    from runtime._spawn import ChildSpec
    from runtime._supervisor import Supervisor

__all__ = ["Cell"]

log = logging.getLogger("runtime.supervisor")

StopMode = Literal["shutdown", "restart", "normal"]
_INTERRUPTED: Any = object()


def _unwrap(exc: Exception) -> Exception:
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class Cell:
    """One supervised actor: identity, mailbox and counters that survive restarts."""

    __slots__ = (
        "_children",
        "_ended",
        "_env",
        "_finished",
        "_go",
        "_park_scope",
        "_pending_error",
        "_ready",
        "_scope",
        "_stop_mode",
        "busy",
        "failed",
        "handled",
        "instance",
        "mailbox",
        "parent",
        "ref",
        "restarts",
        "runtime",
        "spec",
        "status",
    )

    def __init__(self, runtime: Mastra, spec: ChildSpec, parent: Supervisor) -> None:
        self.runtime = runtime
        self.spec = spec
        self.parent = parent
        self.mailbox = Mailbox(spec.mailbox, spec.name)
        self.ref = ActorRef(self)
        self.instance: Actor | None = None
        self.status = "starting"
        self.handled = self.failed = self.restarts = self.busy = 0
        self._children: Supervisor | None = None
        self._env: Envelope | None = None
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
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def concurrency(self) -> int:
        return self.spec.concurrency

    @property
    def alive(self) -> bool:
        return not self.mailbox.closed

    def envelope(self) -> Envelope | None:
        """The envelope being handled by the calling task of this actor, if any."""
        if self.spec.concurrency == 1:
            return self._env
        return current_envelope.get()

    def supervisor(self) -> Supervisor:
        """This actor's own supervisor for its children (created on first use)."""
        if self._children is None:
            from runtime._supervisor import Supervisor

            self._children = Supervisor(self.runtime, self.spec.supervision, owner=self)
        return self._children

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
                reason, _ = await self._incarnate(None)
        finally:
            self._finalize()

    async def _next_incarnation(self, reason: BaseException | None) -> bool:
        """Decide and wait for the next incarnation; False means stop for good."""
        mode = self._stop_mode
        if mode == "shutdown" or not self.alive:
            return False
        self._stop_mode = None
        if mode == "restart":
            return await self._park()
        decision = self.parent.decide(self, reason)
        if decision == "stop":
            return False
        if decision == "escalate":
            self.parent.escalate(self, reason)
            return False
        if decision == "group":
            if self._go is None:
                self._go = trio.Event()
            self.parent.restart_group(self)
            return await self._park()
        return await self._backoff(self.parent.backoff_delay())

    async def _park(self) -> bool:
        go = self._go
        if go is not None:
            self.status = "restarting"
            await go.wait()
            self._go = None
        return self._stop_mode != "shutdown"

    async def _backoff(self, delay: float) -> bool:
        self.status = "restarting"
        if delay > 0:
            with trio.CancelScope() as scope:
                self._park_scope = scope
                await trio.sleep(delay)
            self._park_scope = None
        if self._stop_mode == "restart":
            self._stop_mode = None
            return await self._park()
        return self._stop_mode != "shutdown"

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
        self.status = "starting"
        self._children = None  # as in OTP, each incarnation supervises afresh
        error: BaseException | None = None
        started = False
        actor: Actor | None = None
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                try:
                    actor = self.instance = self.spec.factory(*self.spec.args)
                    if self.concurrency > 1 or actor.uses_nursery:
                        async with trio.open_nursery() as nursery:
                            actor.ctx = Context(self, nursery)
                            await actor.on_start()
                            started = self._running(scope, task_status)
                            await self._loop_concurrent(actor, nursery)
                            # on_stop runs while background tasks still live, so it can ask
                            # them to finish gracefully; then whatever is left is cancelled.
                            with trio.CancelScope(shield=True):
                                await self._wind_down(actor)
                            nursery.cancel_scope.cancel()
                    else:
                        actor.ctx = Context(self, None)
                        await actor.on_start()
                        started = self._running(scope, task_status)
                        await self._loop(actor)
                except Exception as exc:
                    error = _unwrap(exc)
            self._scope = None
            if error is None and self._pending_error is not None:
                error, self._pending_error = self._pending_error, None
            if not started:
                self._announce(task_status, error or ActorStopped(f"{self.name!r} stopped"))
        finally:
            if actor is not None:
                with trio.CancelScope(shield=True):  # bounded: each step has a grace period
                    await self._teardown(actor)
        return error, started

    def _running(
        self, scope: trio.CancelScope, task_status: trio.TaskStatus[BaseException | None] | None
    ) -> bool:
        # From here on only stop() ends this incarnation, so that a cancelled runtime still
        # stops its actors in reverse start order (open_runtime's shutdown).
        scope.shield = True
        self.status = "running"
        self._announce(task_status, None)
        if self._pending_error is not None:  # escalated into while starting
            scope.cancel()
        return True

    async def _wind_down(self, actor: Actor) -> None:
        """Stop the children in reverse order, then run ``on_stop`` within the grace period."""
        self.status = "stopping"
        if self.instance is not actor:
            return  # already wound down
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

    # -- message loops -------------------------------------------------------------------
    async def _loop(self, actor: Actor) -> None:
        mailbox = self.mailbox
        while self._stop_mode is None:
            env = await mailbox.get()
            if env is not None:
                await self._handle(actor, env)

    async def _loop_concurrent(self, actor: Actor, nursery: trio.Nursery) -> None:
        # A pool of identical loops sharing the mailbox: no task is spawned per message.
        # A crash in one worker cancels the others (their messages fail) and the incarnation.
        async with trio.open_nursery() as workers:
            for _ in range(self.concurrency):
                workers.start_soon(self._loop, actor)

    async def _handle(self, actor: Actor, env: Envelope) -> None:
        """Run the handler for one envelope and deliver its outcome.

        A crash is delivered to the asker as ``ActorCrashed`` and re-raised to end the
        incarnation; an interruption (stop, deadline, caller gone) fails the envelope only.
        """
        reply = env.reply
        if reply is not None and reply.abandoned:
            return
        concurrent = self.spec.concurrency > 1
        token = current_envelope.set(env) if concurrent else None
        self._env = env
        self.busy += 1
        result: Any = _INTERRUPTED
        tracing = self.runtime.tracing
        try:
            if tracing.enabled and tracing.sampled(env.traceparent):
                with tracing.message_span(self.spec.name, self.spec.kind, env.msg, env.traceparent):
                    result = await self._call(actor, env)
            elif env.stream is None and env.deadline == math.inf:  # the hot path, inlined
                result = await actor.receive(env.msg)
            else:
                result = await self._call(actor, env)
        except actor.expected_errors as exc:
            self.failed += 1
            env.fail(exc)
            return
        except Exception as exc:
            self.failed += 1
            env.fail(self._crash_error(env, exc))
            raise
        finally:
            self.busy -= 1
            self._env = None
            if token is not None:
                current_envelope.reset(token)
            if result is _INTERRUPTED:
                env.fail(self._interrupted_error(env))
        self.handled += 1
        if reply is not None:
            if not env.deferred:
                reply.set_value(result)
        elif env.stream is not None:
            env.stream.send.close()

    async def _call(self, actor: Actor, env: Envelope) -> Any:
        stream = env.stream
        if stream is not None:
            with trio.CancelScope() as scope:
                stream.scope = scope
                if stream.cancelled:
                    scope.cancel()
                await actor.receive(env.msg)
                return None
            return _INTERRUPTED
        if env.deadline == math.inf:
            return await actor.receive(env.msg)
        with trio.CancelScope(deadline=env.deadline):
            return await actor.receive(env.msg)
        return _INTERRUPTED

    def _crash_error(self, env: Envelope, exc: Exception) -> ActorCrashed:
        error = ActorCrashed(
            f"actor {self.name!r} crashed handling {type(env.msg).__name__}: {exc!r}"
        )
        error.__cause__ = exc
        return error

    def _interrupted_error(self, env: Envelope) -> Exception:
        msg = type(env.msg).__name__
        if env.stream is not None and env.stream.cancelled:
            return StreamClosed(f"stream of {msg} from {self.name!r} was closed by the caller")
        if env.deadline != math.inf and trio.current_time() >= env.deadline:
            return AskTimeout(f"actor {self.name!r} passed the deadline handling {msg}")
        return ActorStopped(f"actor {self.name!r} stopped while handling {msg}")

    # -- stopping ------------------------------------------------------------------------
    def request_stop(self, mode: StopMode = "normal") -> None:
        """Ask the loop to end after the current message (no waiting)."""
        if self._stop_mode != "shutdown":
            self._stop_mode = mode
        self.mailbox.wake()
        if self._park_scope is not None:
            self._park_scope.cancel()
        if mode == "shutdown" and self._go is not None:
            self._go.set()

    def crash(self, error: BaseException) -> None:
        """End the current incarnation as a crash with ``error`` (used for escalation).

        An incarnation still in ``on_start`` is cancelled as soon as ``on_start`` returns,
        never while it may be starting a child.
        """
        self._pending_error = error
        if self._scope is not None and self.status == "running":
            self._scope.cancel()

    async def stop(self, mode: StopMode = "shutdown") -> None:
        """Stop gracefully: finish the current message, stop children, run ``on_stop``.

        After the supervisor's grace period the incarnation is cancelled. With ``"shutdown"``
        this waits until the cell is finalized (queued asks fail with ``ActorStopped``); with
        ``"restart"`` only until the incarnation ended and the runner waits for ``go``.
        """
        if not self.alive:
            return
        if mode == "restart":
            if self._go is None:  # else a runner may already be parked on it
                self._go = trio.Event()
            if self._ended is None:
                self._ended = trio.Event()
            event = self._ended
        else:
            if self._finished is None:
                self._finished = trio.Event()
            event = self._finished
        self.request_stop(mode)
        if self._scope is None and mode == "restart":
            return
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
        if self.status == "stopped":
            return
        self.status = "stopped"
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
