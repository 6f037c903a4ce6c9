"""Bounded mailboxes, envelopes and one-shot reply slots.

The mailbox is a small single-consumer queue built on Trio's low-level parking API
(the same technique as ``trio.open_memory_channel``) so that an idle actor costs a few
hundred bytes and a message costs one scheduler pass.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from typing import Any, Final

import outcome
import trio
from trio.lowlevel import (
    Abort,
    Task,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from runtime._errors import ActorStopped, MailboxFull

__all__ = ["Envelope", "Mailbox", "Reply", "StreamReply"]

_NO_DEADLINE: Final = math.inf
YIELD_EVERY: Final = 64
"""Messages a consumer may take from a full mailbox before it yields to other tasks."""


class Reply:
    """A one-shot slot that carries the answer of one ``ask`` back to its single waiter.

    The kernel fills it with the handler's return value, unless the handler took it over
    with ``Context.defer_reply`` to answer later from another task. ``abandoned`` turns true
    when the waiter was cancelled (or timed out) before the answer arrived; the actor then
    skips the message if it has not started handling it yet, and a holder of a deferred
    reply may skip the work too.
    """

    __slots__ = ("_result", "_task", "abandoned")

    def __init__(self) -> None:
        self._result: outcome.Outcome[Any] | None = None
        self._task: Task | None = None
        self.abandoned = False

    @property
    def done(self) -> bool:
        """True once a value or an error has been set."""
        return self._result is not None

    def set_value(self, value: object) -> None:
        """Deliver ``value`` to the waiter; later calls are ignored."""
        self._resolve(outcome.Value(value))

    def set_error(self, error: BaseException) -> None:
        """Raise ``error`` in the waiter; later calls are ignored."""
        self._resolve(outcome.Error(error))

    def _resolve(self, result: outcome.Outcome[Any]) -> None:
        if self._result is not None:
            return
        self._result = result
        task = self._task
        if task is not None:
            self._task = None
            reschedule(task, result)

    async def wait(self) -> Any:
        """Wait for the answer and return it (or raise the error that was set).

        Cancellation: the waiter leaves at once and the slot is marked abandoned.
        """
        result = self._result
        if result is not None:
            await checkpoint()
            return result.unwrap()
        self._task = current_task()

        def abort(_: object) -> Abort:
            self._task = None
            self.abandoned = True
            return Abort.SUCCEEDED

        return await wait_task_rescheduled(abort)


class StreamReply:
    """The streaming half of an envelope: a bounded channel of chunks plus the outcome.

    The handler writes chunks into ``send``; the caller iterates ``receive``. When the caller
    stops reading, ``cancel()`` cancels the handler's scope (or prevents it from starting).
    """

    __slots__ = ("cancelled", "error", "receive", "scope", "send")

    def __init__(self, buffer: int) -> None:
        send, receive = trio.open_memory_channel[Any](buffer)
        self.send: trio.MemorySendChannel[Any] = send
        self.receive: trio.MemoryReceiveChannel[Any] = receive
        self.scope: trio.CancelScope | None = None
        self.error: BaseException | None = None
        self.cancelled = False

    def fail(self, error: BaseException) -> None:
        """Record ``error`` for the caller and end the stream."""
        if self.error is None:
            self.error = error
        self.send.close()

    def cancel(self) -> None:
        """The caller went away: stop the handler promptly."""
        self.cancelled = True
        if self.scope is not None:
            self.scope.cancel()


class Envelope:
    """One message in a mailbox with everything the kernel needs to deliver it.

    ``sender`` is the sending actor's ref (None outside actors), ``reply`` the slot of an
    ``ask``, ``stream`` the channel of a ``stream`` request, ``traceparent`` the W3C trace
    context of the sender (None when tracing is off) and ``deadline`` the asker's Trio deadline
    (``math.inf`` for none). ``deferred`` is set when the handler took over the reply
    (``Context.defer_reply``): its return value is then not sent.
    """

    __slots__ = ("deadline", "deferred", "msg", "reply", "sender", "stream", "traceparent")

    def __init__(  # noqa: PLR0917 - positional on the hot path
        self,
        msg: object,
        sender: Any = None,
        reply: Reply | None = None,
        stream: StreamReply | None = None,
        traceparent: str | None = None,
        deadline: float = _NO_DEADLINE,
    ) -> None:
        self.msg = msg
        self.sender = sender
        self.reply = reply
        self.stream = stream
        self.traceparent = traceparent
        self.deadline = deadline
        self.deferred = False

    def fail(self, error: BaseException) -> None:
        """Deliver ``error`` to whoever waits for this envelope (no-op for a tell)."""
        if self.reply is not None:
            self.reply.set_error(error)
        elif self.stream is not None:
            self.stream.fail(error)


class Mailbox:
    """A bounded FIFO with one consumer (or a pool of them) and any number of producers.

    ``put`` waits for space (backpressure), ``put_nowait`` raises ``MailboxFull``; after
    ``close`` both raise ``ActorStopped``. ``get`` returns None when the consumer is woken by
    ``wake`` (a stop request) instead of a message.

    A message for an idle consumer goes straight to it (in a pool, each message wakes an
    idle worker of its own, so handlers that wait run side by side). Messages queued while
    every consumer is busy cost one scheduler pass per burst, not one per message: a
    consumer takes them without a schedule point of its own, and yields every
    ``YIELD_EVERY`` messages so a busy actor cannot starve the others.
    """

    __slots__ = (
        "_buffer",
        "_more_receivers",
        "_receiver",
        "_senders",
        "_taken_in_a_row",
        "capacity",
        "closed",
        "owner",
    )

    def __init__(self, capacity: int, owner: str) -> None:
        if capacity < 1:
            raise ValueError(f"mailbox capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.owner = owner
        self.closed = False
        self._buffer: deque[Envelope] | None = None
        self._receiver: Task | None = None
        self._more_receivers: list[Task] | None = None  # a pool of workers (concurrency > 1)
        self._senders: OrderedDict[Task, Envelope] | None = None
        self._taken_in_a_row = 0

    def __len__(self) -> int:
        return 0 if self._buffer is None else len(self._buffer)

    def _stopped(self) -> ActorStopped:
        return ActorStopped(f"actor {self.owner!r} is stopped")

    def put_nowait(self, env: Envelope) -> None:
        """Enqueue ``env`` or raise ``MailboxFull`` / ``ActorStopped`` without waiting."""
        if self.closed:
            raise self._stopped()
        receiver = self._receiver
        if receiver is not None:
            more = self._more_receivers
            self._receiver = more.pop(0) if more else None
            reschedule(receiver, outcome.Value(env))
            return
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = deque()
        if len(buffer) >= self.capacity:
            raise MailboxFull(f"mailbox of {self.owner!r} is full ({self.capacity} messages)")
        buffer.append(env)

    async def put(self, env: Envelope) -> None:
        """Enqueue ``env``, waiting while the mailbox is full.

        Cancellation: a cancelled ``put`` enqueued nothing. Raises ``ActorStopped`` if the
        mailbox is closed before or while waiting.
        """
        await checkpoint_if_cancelled()
        try:
            self.put_nowait(env)
        except MailboxFull:
            await self._wait_for_room(env)
        else:
            await cancel_shielded_checkpoint()

    async def put_then_park(self, env: Envelope) -> None:
        """``put`` for a caller that parks right after (an asker waiting for its reply).

        When there is room this enqueues without a schedule point of its own: the caller's
        next wait provides it, which saves one pass of the scheduler per ``ask``.
        Cancellation and errors are those of ``put``.
        """
        await checkpoint_if_cancelled()
        try:
            self.put_nowait(env)
        except MailboxFull:
            await self._wait_for_room(env)

    async def _wait_for_room(self, env: Envelope) -> None:
        senders = self._senders
        if senders is None:
            senders = self._senders = OrderedDict()
        task = current_task()
        senders[task] = env

        def abort(_: object) -> Abort:
            del senders[task]
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    async def get(self) -> Envelope | None:
        """Take the next envelope, waiting while empty; None means "woken to stop".

        Cancellation: a cancelled ``get`` took nothing.
        """
        await checkpoint_if_cancelled()
        buffer = self._buffer
        if buffer:
            env = buffer.popleft()
            self._admit_waiting_sender(buffer)
            self._taken_in_a_row += 1
            if self._taken_in_a_row >= YIELD_EVERY:
                self._taken_in_a_row = 0
                await cancel_shielded_checkpoint()
            return env
        if self.closed:
            await checkpoint()
            return None
        self._taken_in_a_row = 0
        task = current_task()
        if self._receiver is None:
            self._receiver = task
        else:
            if self._more_receivers is None:
                self._more_receivers = []
            self._more_receivers.append(task)

        def abort(_: object) -> Abort:
            more = self._more_receivers
            if self._receiver is task:
                self._receiver = more.pop(0) if more else None
            elif more is not None:
                more.remove(task)
            return Abort.SUCCEEDED

        result: Envelope | None = await wait_task_rescheduled(abort)
        return result

    def _admit_waiting_sender(self, buffer: deque[Envelope]) -> None:
        senders = self._senders
        if senders:
            task, env = senders.popitem(last=False)
            buffer.append(env)
            reschedule(task, outcome.Value(None))

    def wake(self) -> None:
        """Wake every idle consumer so it notices a stop request (``get`` returns None)."""
        receivers = [self._receiver, *(self._more_receivers or ())]
        self._receiver = None
        self._more_receivers = None
        for receiver in receivers:
            if receiver is not None:
                reschedule(receiver, outcome.Value(None))

    def close(self) -> list[Envelope]:
        """Refuse new messages and return the ones still queued, in order.

        Producers blocked in ``put`` get ``ActorStopped``; their messages were never accepted.
        """
        self.closed = True
        drained = list(self._buffer or ())
        self._buffer = None
        senders = self._senders
        self._senders = None
        for task in senders or ():
            reschedule(task, outcome.Error(self._stopped()))
        self.wake()
        return drained
