"""The ``Actor`` base class and the ``Context`` an actor uses to reach the runtime."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

import trio

from runtime._errors import ActorError, StreamClosed

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

    from runtime._cell import Cell
    from runtime._mailbox import Reply
    from runtime._ref import ActorRef
    from runtime._root import Mastra
    from runtime._spawn import SpawnOptions

__all__ = ["Actor", "Context", "StreamWriter"]


class Actor:
    """Base class of every actor: a Trio task that owns its state and handles messages.

    Subclasses override ``receive`` (and optionally ``on_start`` / ``on_stop``). One instance
    lives for one *incarnation*: after a crash the supervisor builds a fresh instance from the
    same factory and arguments, so state kept on ``self`` starts over, while the mailbox and
    every ``ActorRef`` stay the same.

    Class attributes tune how the kernel runs the actor:

    - ``concurrency``: how many messages are handled at once (1 keeps strict order).
    - ``uses_nursery``: give ``self.ctx.nursery`` for background tasks of this incarnation.
    - ``expected_errors``: exception types that are raised in the asker as they are instead
      of crashing the actor (for example a provider's rate-limit error).
    """

    concurrency: ClassVar[int] = 1
    uses_nursery: ClassVar[bool] = False
    expected_errors: ClassVar[tuple[type[Exception], ...]] = ()

    ctx: Context

    async def on_start(self) -> None:
        """Called before the first message of each incarnation; ``spawn`` waits for it.

        An exception here fails ``spawn`` (first start) or counts as a crash (restart).
        """

    async def on_stop(self) -> None:
        """Called once when the incarnation ends (stop, crash or restart).

        It runs after this actor's children stopped, shielded from cancellation but bounded
        by the supervisor's grace period. With ``uses_nursery`` (or ``concurrency > 1``) and
        a graceful stop, it runs before the tasks in ``self.ctx.nursery`` are cancelled, so it
        can ask them to finish.
        """

    async def receive(self, msg: Any) -> Any:
        """Handle one message; the return value is the reply to ``ask``.

        Raising crashes the actor: the asker gets ``ActorCrashed`` and the supervisor applies
        the restart policy. Cancellation arrives when the asker's deadline passes, when a
        streaming caller stops reading, or when a stop's grace period runs out.
        """
        raise ActorError(f"{type(self).__name__} does not handle {type(msg).__name__}")


class StreamWriter:
    """Writes chunks to the caller of ``ActorRef.stream`` for the message being handled."""

    __slots__ = ("_send",)

    def __init__(self, send: trio.MemorySendChannel[Any]) -> None:
        self._send = send

    async def send(self, chunk: object) -> None:
        """Send one chunk, waiting while the caller's buffer is full (backpressure).

        Raises ``StreamClosed`` if the caller stopped reading; the handler is being cancelled.
        """
        try:
            await self._send.send(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await trio.lowlevel.checkpoint()
            raise StreamClosed("the caller stopped reading the stream") from None


class Context:
    """What an actor sees of the runtime: its name, its ref, spawning, lookup, telemetry."""

    __slots__ = ("_cell", "_nursery")

    def __init__(self, cell: Cell, nursery: trio.Nursery | None) -> None:
        self._cell = cell
        self._nursery = nursery

    @property
    def name(self) -> str:
        """The name this actor is registered under."""
        return self._cell.name

    @property
    def kind(self) -> str:
        """The registry kind (``actor``, ``agent``, ``tool``, ...)."""
        return self._cell.kind

    @property
    def self_ref(self) -> ActorRef:
        """This actor's own ref (stable across restarts)."""
        return self._cell.ref

    @property
    def runtime(self) -> Mastra:
        """The runtime handle (the root ``Mastra`` actor)."""
        return self._cell.runtime

    @property
    def sender(self) -> ActorRef | None:
        """The ref of the actor that sent the message being handled (None if not an actor)."""
        env = self._cell.envelope()
        return None if env is None else env.sender

    @property
    def nursery(self) -> trio.Nursery:
        """A nursery that lives as long as this incarnation (needs ``uses_nursery = True``).

        Tasks in it are cancelled when the actor stops or restarts; an exception in one of
        them crashes the actor.
        """
        if self._nursery is None:
            raise ActorError(f"{type(self._cell.instance).__name__} must set uses_nursery = True")
        return self._nursery

    @property
    def is_streaming(self) -> bool:
        """True while handling a message that was sent with ``ActorRef.stream``."""
        env = self._cell.envelope()
        return env is not None and env.stream is not None

    @property
    def reply_stream(self) -> StreamWriter:
        """The writer for chunks of the message being handled (only for ``stream`` requests)."""
        env = self._cell.envelope()
        if env is None or env.stream is None:
            raise ActorError("the message being handled was not sent with stream()")
        return StreamWriter(env.stream.send)

    def defer_reply(self) -> Reply | None:
        """Take over answering the ``ask`` being handled; None if it was a ``tell``.

        The handler's return value is then not sent: whoever holds the returned ``Reply``
        must call ``set_value`` or ``set_error`` exactly once, even when it fails or is
        cancelled, or the asker waits until its own deadline. This lets an actor hand a
        request to its own background task (a batching writer, say) and take the next
        message at once, while the asker still gets its answer directly. If the handler
        raises after taking the reply, the asker gets the error and a later answer is
        ignored. Raises ``ActorError`` outside a handler or for a ``stream`` request.
        """
        env = self._cell.envelope()
        if env is None or env.stream is not None:
            raise ActorError("defer_reply() needs an ask or a tell being handled")
        env.deferred = True
        return env.reply

    @property
    def tracer(self) -> Tracer:
        """The runtime's OpenTelemetry tracer; spans nest under the current message's span."""
        return self._cell.runtime.tracing.tracer

    @property
    def meter(self) -> Meter:
        """The runtime's OpenTelemetry meter."""
        return self._cell.runtime.tracing.meter

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the actor; records carry the actor name and trace id."""
        return logging.getLogger(f"runtime.actor.{self._cell.name}")

    async def spawn(self, factory: Any, /, *args: Any, **options: Any) -> Any:
        """Spawn a supervised child of this actor (see ``Mastra.spawn`` for the options).

        Children are stopped in reverse start order before this actor's ``on_stop``, and are
        stopped with it when it crashes.
        """
        opts: SpawnOptions = options  # type: ignore[assignment]
        return await self._cell.supervisor().spawn(factory, args, opts)

    def lookup(self, name: str, *, kind: str | None = None) -> ActorRef | None:
        """Find a live actor by name (and kind); see ``Mastra.lookup``."""
        return self._cell.runtime.lookup(name, kind=kind)

    def actors(self, kind: str) -> dict[str, ActorRef]:
        """All live actors registered under ``kind``, by name."""
        return self._cell.runtime.actors(kind)

    async def stop(self, ref: ActorRef | None = None) -> None:
        """Stop ``ref`` (default: this actor, after the current message)."""
        target = self._cell if ref is None else ref._cell
        if target is self._cell:
            self._cell.request_stop()
            return
        await target.stop()
