"""The ``Actor`` base class and the ``Context`` an actor uses to reach the runtime."""

from __future__ import annotations

import inspect
import logging
import types
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

import trio

from runtime._current import current_envelope, in_background
from runtime._errors import ActorError, StreamClosed, UnhandledMessage

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

    from runtime._cell import Cell
    from runtime._config import SupervisionConfig
    from runtime._mailbox import Reply
    from runtime._ref import ActorRef
    from runtime._root import Mastra
    from runtime._spawn import SpawnOptions

__all__ = ["Actor", "ActorNursery", "Context", "StreamWriter", "accepted_messages"]


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
      of counting as a crash (for example a provider's rate-limit error).
    - ``child_supervision``: how this actor supervises its children (strategy, intensity,
      backoff) when ``spawn`` is given no ``supervision``; None means the runtime's default.
      An actor whose children stand for something outside that may fail for long (a remote
      server) declares a patient policy, so their restarts never escalate into it.
    - ``restart_on_crash``: whether a handler raising any other exception restarts the actor
      (True) or fails only that message (False). By default an actor handling one message
      at a time restarts (its state may be what broke, as in OTP), and a concurrent actor
      does not: one bad message must not fail the others in flight. A concurrent actor
      whose handlers share state that a crash can leave broken declares True.

    The annotation of ``receive``'s message parameter, when it names classes (``Inc | Get``),
    is the set of messages the actor accepts: sending anything else raises
    ``UnhandledMessage`` in the sender and enqueues nothing.
    """

    concurrency: ClassVar[int] = 1
    child_supervision: ClassVar[SupervisionConfig | None] = None
    uses_nursery: ClassVar[bool] = False
    expected_errors: ClassVar[tuple[type[Exception], ...]] = ()
    restart_on_crash: ClassVar[bool | None] = None

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

        Raising fails the message: the asker gets ``ActorCrashed`` (or the error itself, for
        ``expected_errors`` and ``UnhandledMessage``), and an actor that restarts on a crash
        is restarted by its supervisor. Cancellation arrives when the asker's deadline
        passes, when a streaming caller stops reading, or when a stop's grace period runs out.
        """
        raise UnhandledMessage(f"{type(self).__name__} does not handle {type(msg).__name__}")


_ACCEPTED: dict[type[Actor], tuple[type, ...] | None] = {}


def accepted_messages(actor_class: type[Actor]) -> tuple[type, ...] | None:
    """The message classes ``actor_class.receive`` is annotated to accept, or None when the
    annotation is missing, ``Any``/``object``, not resolvable at run time, or not made of
    plain classes (then every message is delivered). Read once per class."""
    try:
        return _ACCEPTED[actor_class]
    except KeyError:
        accepted = _ACCEPTED[actor_class] = _read_accepted(actor_class)
        return accepted


def _read_accepted(actor_class: type[Actor]) -> tuple[type, ...] | None:
    receive = actor_class.receive
    if receive is Actor.receive:
        return None
    try:
        hints = typing.get_type_hints(receive)
        params = list(inspect.signature(receive).parameters)
    except Exception:  # a name imported only for type checking: no check
        return None
    hint = hints.get(params[1]) if len(params) > 1 else None
    members = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )
    if not members or not all(
        isinstance(m, type) and m is not object and m is not Any for m in members
    ):
        return None
    return tuple(members)


class ActorNursery:
    """The nursery of an incarnation's background tasks (``Context.nursery``).

    A task started here handles no message: ``ctx.sender``, ``reply_stream`` and
    ``defer_reply`` see none, and it may ask its own actor (the ask is queued like any
    other). Tasks are cancelled when the incarnation ends; one that raises crashes the actor,
    and the messages being handled then fail with ``ActorCrashed``.
    """

    __slots__ = ("_nursery", "_on_crash")

    def __init__(self, nursery: trio.Nursery, on_crash: Callable[[Exception], None]) -> None:
        self._nursery = nursery
        self._on_crash = on_crash

    @property
    def cancel_scope(self) -> trio.CancelScope:
        """The scope of every background task of this incarnation."""
        return self._nursery.cancel_scope

    def start_soon(
        self, fn: Callable[..., Awaitable[object]], *args: object, name: object = None
    ) -> None:
        """Start ``fn(*args)`` as a background task (``trio.Nursery.start_soon``)."""
        self._nursery.start_soon(self._detached, fn, args, name=name or fn)

    async def start(
        self, fn: Callable[..., Awaitable[object]], *args: object, name: object = None
    ) -> Any:
        """Start ``fn(*args, task_status=...)`` and return what it passes to
        ``task_status.started`` (``trio.Nursery.start``)."""
        return await self._nursery.start(self._detached_start, fn, args, name=name or fn)

    async def _detached(self, fn: Callable[..., Awaitable[object]], args: tuple[Any, ...]) -> None:
        current_envelope.set(None)
        in_background.set(True)
        try:
            await fn(*args)
        except Exception as exc:
            self._on_crash(exc)
            raise

    async def _detached_start(
        self,
        fn: Callable[..., Awaitable[object]],
        args: tuple[Any, ...],
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        current_envelope.set(None)
        in_background.set(True)
        try:
            await fn(*args, task_status=task_status)
        except Exception as exc:
            self._on_crash(exc)
            raise


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

    def __init__(self, cell: Cell, nursery: ActorNursery | None) -> None:
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
    def nursery(self) -> ActorNursery:
        """A nursery that lives as long as this incarnation (needs ``uses_nursery = True``).

        Its tasks run outside any message (see ``ActorNursery``); they are cancelled when the
        actor stops or restarts, and an exception in one of them crashes the actor.
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
