"""OTP-style supervision of a group of children: restart decisions, intensity, strategies."""

from __future__ import annotations

import functools
import itertools
import logging
import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import trio

from runtime._config import SupervisionConfig
from runtime._errors import ActorCrashed, RestartIntensityExceeded
from runtime._spawn import ChildSpec, SpawnOptions

if TYPE_CHECKING:
    from runtime._actor import Actor
    from runtime._cell import Cell
    from runtime._ref import ActorRef
    from runtime._root import Mastra

__all__ = ["Decision", "Supervisor"]

log = logging.getLogger("runtime.supervisor")
Decision = Literal["stop", "one", "group", "escalate"]
_serial = itertools.count(1)


class Supervisor:
    """Supervises the children of one actor (or of the root when ``owner`` is None).

    Children start in order and stop in reverse order. When one exits, ``decide`` applies its
    restart type and the restart intensity (``max_restarts`` within ``within`` seconds across
    all children); past it the supervisor escalates: its owner crashes, or at the root the
    runtime stops with ``RestartIntensityExceeded``.
    """

    __slots__ = (
        "_group_done",
        "_group_scope",
        "_group_waiting",
        "_restart_log",
        "children",
        "owner",
        "policy",
        "runtime",
    )

    def __init__(self, runtime: Mastra, policy: SupervisionConfig, owner: Cell | None) -> None:
        self.runtime = runtime
        self.policy = policy
        self.owner = owner
        self.children: list[Cell] = []
        self._restart_log: deque[float] = deque()
        self._group_waiting: list[Cell] = []  # crashed children awaiting a group restart
        self._group_done: trio.Event | None = None  # set when the group restart task ends
        self._group_scope = trio.CancelScope()

    @property
    def label(self) -> str:
        """The owner's name, or ``mastra`` for the root."""
        return "mastra" if self.owner is None else self.owner.name

    # -- spawning ------------------------------------------------------------------------
    def child_spec(
        self, factory: Callable[..., Actor], args: tuple[Any, ...], options: SpawnOptions
    ) -> ChildSpec:
        """Fill in defaults and validate the spawn options.

        Raises ``TypeError`` for an option ``spawn`` does not know (constructor keywords go
        through ``functools.partial(factory, ...)``, never as spawn options).
        """
        unknown = sorted(set(options) - set(SpawnOptions.__annotations__))
        if unknown:
            known = ", ".join(SpawnOptions.__annotations__)
            raise TypeError(
                f"spawn() got unknown option(s) {', '.join(unknown)} (known: {known}); pass "
                "constructor arguments with functools.partial(factory, ...)"
            )
        defaults = self.runtime.config.runtime
        made_by = _unwrap(factory)
        name = (
            options.get("name")
            or f"{getattr(made_by, '__name__', 'actor').lower()}-{next(_serial)}"
        )
        concurrency = options.get("concurrency", getattr(made_by, "concurrency", 1))
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        return ChildSpec(
            factory=factory,
            args=args,
            name=name,
            kind=options.get("kind", "actor"),
            restart=options.get("restart", "permanent"),
            mailbox=options.get("mailbox", defaults.mailbox),
            concurrency=concurrency,
            supervision=options.get("supervision")
            or getattr(made_by, "child_supervision", None)
            or defaults.supervision,
        )

    async def spawn(
        self, factory: Callable[..., Actor], args: tuple[Any, ...], options: SpawnOptions
    ) -> ActorRef:
        """Start a child and return its ref once its ``on_start`` finished.

        Raises ``NameTaken`` for a duplicate name and ``ActorCrashed`` (cause chained) when
        the first ``on_start`` raised; then nothing stays registered.
        """
        from runtime._cell import Cell

        spec = self.child_spec(factory, args, options)
        cell = Cell(self.runtime, spec, self)
        self.runtime._register(cell)
        self.children.append(cell)
        error = await self.runtime._nursery.start(cell.run)
        if error is not None:
            raise ActorCrashed(f"actor {spec.name!r} failed to start: {error!r}") from error
        return cell.ref

    def forget(self, cell: Cell) -> None:
        """Remove a finalized child."""
        children = self.children
        if children and children[-1] is cell:  # the common case: stopping in reverse order
            children.pop()
        elif cell in children:
            children.remove(cell)

    # -- decisions -----------------------------------------------------------------------
    def decide(self, child: Cell, reason: BaseException | None) -> Decision:
        """What to do after ``child``'s incarnation ended (``reason`` None = normal exit)."""
        if child.spec.restart == "temporary" or (
            child.spec.restart == "transient" and reason is None
        ):
            return "stop"
        if reason is not None:
            log.warning("actor %r crashed: %r; restarting", child.name, reason)
        now = trio.current_time()
        restarts = self._restart_log
        restarts.append(now)
        while restarts and restarts[0] < now - self.policy.within:
            restarts.popleft()
        if len(restarts) > self.policy.max_restarts:
            return "escalate"
        return "one" if self.policy.strategy == "one_for_one" else "group"

    def backoff_delay(self) -> float:
        """Delay before the next restart: none for the first, then exponential with jitter."""
        recent = len(self._restart_log)
        if recent <= 1 or self.policy.backoff_base <= 0:
            return 0.0
        delay = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (recent - 2))
        return float(delay * random.uniform(0.5, 1.0))

    def escalate(self, child: Cell, reason: BaseException | None) -> None:
        """Give up on ``child``: crash the owner, or stop the runtime at the root."""
        error = RestartIntensityExceeded(
            f"actor {child.name!r} needed more than {self.policy.max_restarts} restarts within "
            f"{self.policy.within}s; supervisor {self.label!r} gave up"
            + (f" (last error: {reason!r})" if reason is not None else "")
        )
        error.__cause__ = reason
        log.error("%s", error)
        if self.owner is None:
            self.runtime._fail(error)
        else:
            self.owner.crash(error)

    # -- group restarts ------------------------------------------------------------------
    def request_group_restart(self, crashed: Cell) -> None:
        """Restart ``crashed`` with all siblings (``one_for_all``) or the younger ones
        (``rest_for_one``): stop them in reverse order, then start all in order.

        Crashes that arrive before a round has stopped its siblings join that round, so
        siblings crashing together are restarted once. The rounds run in one task that this
        supervisor owns: ``stop_all`` cancels it and waits for it before stopping children.
        """
        self._group_waiting.append(crashed)
        if self._group_done is None:
            self._group_done = trio.Event()
            self.runtime._nursery.start_soon(self._group_restarts, self._group_done)

    async def _group_restarts(self, done: trio.Event) -> None:
        try:
            with self._group_scope:
                while self._group_waiting:
                    await self._restart_round()
        finally:
            self._group_waiting.clear()
            self._group_done = None
            self._group_scope = trio.CancelScope()
            done.set()

    async def _restart_round(self) -> None:
        order = list(self.children)
        crashed = [order.index(c) for c in self._group_waiting if c in order]
        if not crashed:
            self._group_waiting.clear()
            return
        affected = order if self.policy.strategy == "one_for_all" else order[min(crashed) :]
        for sibling in reversed(affected):
            if sibling.alive:
                await sibling.stop("restart")
        # A sibling that crashed while this round stopped the others restarts with them.
        self._group_waiting = [c for c in self._group_waiting if c not in affected]
        delay = self.backoff_delay()
        if delay:
            await trio.sleep(delay)
        for cell in affected:
            if cell.alive:
                await cell.go().wait()

    async def stop_all(self) -> None:
        """Stop every child in reverse start order, each within its grace period (a group
        restart in progress is cancelled first)."""
        done = self._group_done
        if done is not None:
            self._group_scope.cancel()
            await done.wait()
        for cell in reversed(list(self.children)):
            await cell.stop("shutdown")


def _unwrap(factory: Callable[..., Any]) -> Callable[..., Any]:
    """The class or function a ``functools.partial`` (possibly nested) ends up calling, so
    its class attributes (``concurrency``) and name still count."""
    while isinstance(factory, functools.partial):
        factory = factory.func
    return factory
