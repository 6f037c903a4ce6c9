"""The message loop of an incarnation: take envelopes, run the handler, deliver outcomes.

``MessageLoop`` is the half of a cell that handles messages; the cell adds the lifecycle.
A handler's outcome reaches its asker in every case:

- a return value: the reply (unless the handler deferred it);
- an ``expected_errors`` exception or ``UnhandledMessage``: raised in the asker as it is;
- any other exception: ``ActorCrashed`` with the cause chained. With ``restart_on_crash``
  the exception then ends the incarnation, and the messages other workers were handling
  fail with ``ActorCrashed`` too; without it only this message failed and the loop goes on;
- an interruption (a stop, the asker's deadline, a streaming caller gone): ``ActorStopped``,
  ``AskTimeout`` or ``StreamClosed`` (``ActorCrashed`` when the incarnation is ending
  because of a crash).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Literal

import trio

from runtime._current import current_envelope
from runtime._errors import ActorCrashed, ActorStopped, AskTimeout, StreamClosed, UnhandledMessage
from runtime._mailbox import Envelope, Mailbox

if TYPE_CHECKING:
    from runtime._actor import Actor
    from runtime._tracing import Tracing

__all__ = ["MessageLoop"]

log = logging.getLogger("runtime.supervisor")

_INTERRUPTED: Any = object()
_FAILED: Any = object()


class MessageLoop:
    """Handles the messages of one actor's incarnations (see the module docstring)."""

    __slots__ = (
        "_env",
        "_stop_mode",
        "busy",
        "concurrency",
        "crash_cause",
        "expected_errors",
        "failed",
        "handled",
        "kind",
        "mailbox",
        "name",
        "restart_on_crash",
        "tracing",
    )

    def __init__(self, mailbox: Mailbox, name: str, concurrency: int) -> None:
        self.mailbox = mailbox
        self.name = name
        self.concurrency = concurrency
        self.kind = "actor"
        self.handled = self.failed = self.busy = 0
        self.restart_on_crash = concurrency == 1
        self.expected_errors: tuple[type[Exception], ...] = ()
        self.crash_cause: Exception | None = None  # what is ending the incarnation, if a crash
        self._env: Envelope | None = None
        self._stop_mode: Literal["shutdown", "restart", "normal"] | None = None

    if TYPE_CHECKING:
        tracing: Tracing

    async def loop(self, actor: Actor) -> None:
        """Handle messages one at a time until a stop is requested."""
        mailbox = self.mailbox
        while self._stop_mode is None:
            env = await mailbox.get()
            if env is not None:
                await self._handle(actor, env)

    async def loop_concurrent(self, actor: Actor) -> None:
        """A pool of ``concurrency`` identical loops sharing the mailbox (no task is spawned
        per message). A crash that restarts ends them all."""
        async with trio.open_nursery() as workers:
            for _ in range(self.concurrency):
                workers.start_soon(self.loop, actor)

    async def _handle(self, actor: Actor, env: Envelope) -> None:
        """Run the handler for one envelope and deliver its outcome."""
        reply = env.reply
        if reply is not None and reply.abandoned:
            return
        concurrent = self.concurrency > 1
        token = current_envelope.set(env) if concurrent else None
        self._env = env
        self.busy += 1
        result: Any = _INTERRUPTED
        tracing = self.tracing
        try:
            if tracing.enabled and tracing.sampled(env.traceparent):
                with tracing.message_span(self.name, self.kind, env.msg, env.traceparent):
                    result = await self._call(actor, env)
            elif env.stream is None and env.deadline == math.inf:  # the hot path, inlined
                result = await actor.receive(env.msg)
            else:
                result = await self._call(actor, env)
        except Exception as exc:
            result = _FAILED
            self._failed(env, exc)
        finally:
            self.busy -= 1
            self._env = None
            if token is not None:
                current_envelope.reset(token)
            if result is _INTERRUPTED:
                env.fail(self._interrupted_error(env))
        if result is _FAILED:
            return
        self.handled += 1
        if reply is not None:
            if not env.deferred:
                reply.set_value(result)
        elif env.stream is not None:
            env.stream.send.close()

    def _failed(self, env: Envelope, exc: Exception) -> None:
        """Deliver a handler's exception; re-raise it when it ends the incarnation."""
        self.failed += 1
        if isinstance(exc, (*self.expected_errors, UnhandledMessage)):
            env.fail(exc)
            return
        env.fail(self._crash_error(env, exc))
        if self.restart_on_crash:
            self.crash_cause = exc
            raise exc
        log.error(
            "actor %r failed handling %s (it keeps running)",
            self.name,
            type(env.msg).__name__,
            exc_info=exc,
        )

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
        cause = self.crash_cause
        if cause is not None:
            error = ActorCrashed(
                f"actor {self.name!r} crashed while handling {msg}, and restarts: {cause!r}"
            )
            error.__cause__ = cause
            return error
        return ActorStopped(f"actor {self.name!r} stopped while handling {msg}")
