"""``ActorRef``: the only way to talk to an actor (tell, ask, stream)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from runtime._current import current_cell, in_background
from runtime._errors import AskTimeout, SelfAskError, UnhandledMessage
from runtime._mailbox import Envelope, Reply, StreamReply

if TYPE_CHECKING:
    from runtime._cell import Cell

__all__ = ["ActorRef", "StreamCall"]


class ActorRef:
    """A handle to an actor that stays valid across its restarts.

    The supervisor owns the mailbox, not the actor's task, so messages sent while the actor
    restarts wait in the mailbox. After the actor stopped for good every call raises
    ``ActorStopped``.
    """

    __slots__ = ("_cell",)

    def __init__(self, cell: Cell) -> None:
        self._cell = cell

    def __repr__(self) -> str:
        return f"<ActorRef {self._cell.kind}:{self._cell.name}>"

    @property
    def name(self) -> str:
        """The registered name of the actor."""
        return self._cell.name

    @property
    def kind(self) -> str:
        """The registry kind of the actor."""
        return self._cell.kind

    @property
    def alive(self) -> bool:
        """False once the actor stopped for good."""
        return not self._cell.mailbox.closed

    def _envelope(self, msg: object, reply: Reply | None = None) -> Envelope:
        accepts = self._cell.accepts
        if accepts is not None and not isinstance(msg, accepts):
            names = ", ".join(t.__name__ for t in accepts)
            raise UnhandledMessage(
                f"actor {self._cell.name!r} does not handle {type(msg).__name__} "
                f"(it accepts {names})"
            )
        sender = current_cell.get()
        tracing = self._cell.runtime.tracing
        return Envelope(
            msg,
            None if sender is None else sender.ref,
            reply,
            None,
            tracing.traceparent() if tracing.enabled else None,
        )

    async def send(self, msg: object) -> None:
        """Tell: enqueue ``msg``, waiting only while the mailbox is full.

        Cancellation: a cancelled send enqueued nothing. Raises ``ActorStopped`` if the actor
        is stopped, ``UnhandledMessage`` if it does not accept this type of message.
        """
        await self._cell.mailbox.put(self._envelope(msg))

    def send_nowait(self, msg: object) -> None:
        """Tell without waiting: raises ``MailboxFull`` when full, ``ActorStopped`` when stopped."""
        self._cell.mailbox.put_nowait(self._envelope(msg))

    def _check_not_self(self, msg: object) -> None:
        cell = self._cell
        if current_cell.get() is cell and cell.concurrency == 1 and not in_background.get():
            raise SelfAskError(
                f"actor {cell.name!r} asked itself {type(msg).__name__} while handling a message;"
                " it would wait for itself forever (use send, or handle it inline)"
            )

    async def ask(self, msg: object, *, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Request/reply: send ``msg`` and wait for the handler's return value.

        Raises ``ActorCrashed`` (with the handler's exception as ``__cause__``) if the handler
        raised, ``ActorStopped`` if the actor stopped first, ``AskTimeout`` after ``timeout``
        seconds, ``UnhandledMessage`` (nothing sent) for a message type the actor does not
        accept, and an ``expected_errors`` exception of the actor as it is. The asker's
        deadline travels in the envelope: the handler is cancelled when it passes.
        Cancellation: the message is skipped if not started yet; a running handler finishes
        unless the deadline cancels it.
        """
        self._check_not_self(msg)
        reply = Reply()
        env = self._envelope(msg, reply)
        if timeout is None:
            env.deadline = trio.current_effective_deadline()
            await self._cell.mailbox.put_then_park(env)
            return await reply.wait()
        with trio.move_on_after(timeout) as scope:
            env.deadline = min(scope.deadline, trio.current_effective_deadline())
            await self._cell.mailbox.put_then_park(env)
            return await reply.wait()
        raise AskTimeout(
            f"actor {self._cell.name!r} did not reply to {type(msg).__name__} within {timeout}s"
        )

    def stream(self, msg: object, *, buffer: int | None = None) -> StreamCall:
        """Send ``msg`` and iterate the chunks the handler writes with ``ctx.reply_stream``.

        Use it as ``async with ref.stream(msg) as chunks: async for chunk in chunks`` (the
        block bounds the call), or iterate it directly: ``async for chunk in ref.stream(msg)``.
        The message is sent when the block is entered or the first chunk is awaited. The
        iterator ends when the handler returns; it raises ``ActorCrashed`` / ``ActorStopped``
        if the handler failed or the actor stopped. Leaving the block early, being cancelled,
        or dropping a directly iterated stream (``break``) cancels the handler.
        """
        self._check_not_self(msg)
        size = self._cell.runtime.config.runtime.stream_buffer if buffer is None else buffer
        return StreamCall(self, msg, size)

    async def _open_stream(self, msg: object, size: int) -> StreamReply:
        slot = StreamReply(size)
        env = self._envelope(msg)
        env.stream = slot
        try:
            await self._cell.mailbox.put(env)
        except BaseException:
            slot.cancel()
            slot.receive.close()
            raise
        return slot


class StreamCall:
    """One streaming call: an async context manager and an async iterator of its chunks.

    Cancelling the call (leaving the ``async with`` block, ``aclose``, or the object being
    dropped mid-iteration) cancels the handler; chunks not yet read are discarded.
    """

    __slots__ = ("_chunks", "_done", "_msg", "_ref", "_size", "_slot")

    def __init__(self, ref: ActorRef, msg: object, size: int) -> None:
        self._ref = ref
        self._msg = msg
        self._size = size
        self._slot: StreamReply | None = None
        self._chunks: _Chunks | None = None
        self._done = False

    async def _open(self) -> _Chunks:
        if self._done or self._slot is not None:
            raise RuntimeError("a stream call is sent once: call stream() again for another")
        self._slot = await self._ref._open_stream(self._msg, self._size)
        self._chunks = _Chunks(self._slot)
        return self._chunks

    async def __aenter__(self) -> _Chunks:
        return await self._open()

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __aiter__(self) -> StreamCall:
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        chunks = self._chunks or await self._open()
        try:
            return await chunks.__anext__()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Cancel the call (idempotent); the handler is cancelled if it still runs."""
        self._done = True
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.cancel()
            slot.receive.close()

    async def aclose(self) -> None:
        """``close`` as an awaitable, for ``contextlib.aclosing``."""
        self.close()

    def __del__(self) -> None:
        if self._slot is None:
            return
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            return  # collected off the Trio thread: cancel scopes are not thread-safe
        self.close()


class _Chunks:
    """The async iterator handed out by ``ActorRef.stream``."""

    __slots__ = ("_slot",)

    def __init__(self, slot: StreamReply) -> None:
        self._slot = slot

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._slot.receive.receive()
        except trio.EndOfChannel:
            if self._slot.error is not None:
                raise self._slot.error from self._slot.error.__cause__
            raise StopAsyncIteration from None
