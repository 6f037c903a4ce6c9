"""``open_runtime``: the root ``Mastra`` actor, its registry and its supervision tree."""

from __future__ import annotations

import logging
import pkgutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, overload

import msgspec
import trio

from runtime._config import ActorConfig, RuntimeConfig
from runtime._errors import ActorCrashed, ConfigError, NameTaken
from runtime._spawn import Spawnable, SpawnOptions
from runtime._supervisor import Supervisor
from runtime._tracing import Tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.trace.export import SpanExporter

    from runtime._actor import Actor
    from runtime._cell import Cell
    from runtime._ref import ActorRef

__all__ = ["ActorStats", "Mastra", "open_runtime"]

log = logging.getLogger("runtime")
R = TypeVar("R")


RECENT_RESTARTS_WINDOW = 60.0
"""Seconds over which ``ActorStats.recent_restarts`` counts."""


class ActorStats(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of one actor's counters, as returned by ``Mastra.stats``."""

    name: str
    kind: str
    status: str
    mailbox: int
    capacity: int
    handled: int
    failed: int
    restarts: int
    in_flight: int
    recent_restarts: int = 0
    """Restarts within the last ``RECENT_RESTARTS_WINDOW`` seconds (a health signal)."""


class Mastra:
    """The root actor's handle: spawn, look up, stop and inspect actors.

    Obtained from ``open_runtime``; valid until that block exits.
    """

    def __init__(self, config: RuntimeConfig, tracing: Tracing, nursery: trio.Nursery) -> None:
        self.config = config
        self.tracing = tracing
        self._nursery = nursery
        self._registry: dict[str, dict[str, Cell]] = {}
        self._root = Supervisor(self, config.runtime.supervision, owner=None)
        self._failure: BaseException | None = None
        tracing.observe_actors(self._metric_rows)

    @overload
    async def spawn(self, factory: Spawnable[R], /) -> R: ...
    @overload
    async def spawn(
        self, factory: Callable[..., Actor], /, *args: Any, **options: Any
    ) -> ActorRef: ...
    async def spawn(self, factory: Any, /, *args: Any, **options: Any) -> Any:
        """Start a top-level actor and return its ref once its ``on_start`` finished.

        ``factory`` is an ``Actor`` subclass (or any callable returning an actor) called with
        ``args`` for every incarnation; options are ``name``, ``kind``, ``restart``,
        ``mailbox``, ``concurrency`` and ``supervision`` (see ``SpawnOptions``). A
        ``Spawnable`` spec is spawned through its ``spawn_in`` and its result returned.
        Raises ``NameTaken`` or ``ActorCrashed`` (first ``on_start`` failed).
        """
        if isinstance(factory, Spawnable) and not isinstance(factory, type):
            return await factory.spawn_in(self)
        opts: SpawnOptions = options  # type: ignore[assignment]
        return await self._root.spawn(factory, args, opts)

    def lookup(self, name: str, *, kind: str | None = None) -> ActorRef | None:
        """The live actor called ``name`` (in ``kind`` if given), or None.

        Raises ``LookupError`` when ``kind`` is None and several kinds use that name.
        """
        if kind is not None:
            cell = self._registry.get(kind, {}).get(name)
            return None if cell is None else cell.ref
        found = [cells[name] for cells in self._registry.values() if name in cells]
        if len(found) > 1:
            kinds = ", ".join(sorted(c.kind for c in found))
            raise LookupError(f"name {name!r} is used by several kinds ({kinds}); pass kind=")
        return found[0].ref if found else None

    def actors(self, kind: str) -> dict[str, ActorRef]:
        """All live actors registered under ``kind``, by name."""
        return {name: cell.ref for name, cell in self._registry.get(kind, {}).items()}

    async def stop(self, ref: ActorRef) -> None:
        """Stop an actor for good: it finishes its current message, stops its children in
        reverse order, runs ``on_stop``; queued and later asks fail with ``ActorStopped``.
        Cancelled after the grace period if it does not finish.
        """
        await ref._cell.stop("shutdown")

    def stats(self, kind: str | None = None) -> dict[str, ActorStats]:
        """Counters per live actor, keyed by name (``kind:name`` where names repeat)."""
        cells = list(self._cells(kind))
        names = [c.name for c in cells]
        return {
            (c.name if names.count(c.name) == 1 else f"{c.kind}:{c.name}"): _stats(c) for c in cells
        }

    def _cells(self, kind: str | None = None) -> Iterator[Cell]:
        for k, cells in self._registry.items():
            if kind is None or k == kind:
                yield from cells.values()

    def _metric_rows(self) -> Iterator[tuple[dict[str, str], tuple[int, int, int, int]]]:
        for c in list(self._cells()):
            attrs = {"actor.name": c.name, "actor.kind": c.kind}
            yield attrs, (c.handled, c.failed, c.restarts, len(c.mailbox))

    def _register(self, cell: Cell) -> None:
        cells = self._registry.setdefault(cell.kind, {})
        if cell.name in cells:
            raise NameTaken(f"an actor named {cell.name!r} of kind {cell.kind!r} already exists")
        cells[cell.name] = cell

    def _unregister(self, cell: Cell) -> None:
        cells = self._registry.get(cell.kind)
        if cells is not None and cells.get(cell.name) is cell:
            del cells[cell.name]

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._nursery.cancel_scope.cancel()

    async def _shutdown(self) -> None:
        await self._root.stop_all()

    async def _spawn_configured(self) -> None:
        for index, actor in enumerate(self.config.actors):
            await self._spawn_from_config(actor, f"$.actors[{index}]")

    async def _spawn_from_config(self, actor: ActorConfig, path: str) -> None:
        try:
            factory = pkgutil.resolve_name(actor.factory)
        except Exception as exc:  # importing runs the module: any error is a config problem
            raise ConfigError(
                f"cannot import {actor.factory!r}: {exc!r} - at `{path}.factory`"
            ) from exc
        if isinstance(factory, Spawnable) and not isinstance(factory, type):
            await factory.spawn_in(self)  # a declarative spec names its own actors
            return
        if not callable(factory):
            raise ConfigError(
                f"{actor.factory!r} is neither an actor nor a spec - at `{path}.factory`"
            )
        options: dict[str, Any] = {"name": actor.name, "kind": actor.kind, "restart": actor.restart}
        if actor.mailbox is not None:
            options["mailbox"] = actor.mailbox
        await self._root.spawn(_with_options(factory, actor.options), (), options)  # type: ignore[arg-type]


def _with_options(factory: Callable[..., Actor], options: dict[str, Any]) -> Callable[[], Actor]:
    def build() -> Actor:
        return factory(**options)

    build.__name__ = getattr(factory, "__name__", "actor")
    build.concurrency = getattr(factory, "concurrency", 1)  # type: ignore[attr-defined]
    return build


def _single(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _stats(cell: Cell) -> ActorStats:
    return ActorStats(
        name=cell.name,
        kind=cell.kind,
        status=cell.status,
        mailbox=len(cell.mailbox),
        capacity=cell.mailbox.capacity,
        handled=cell.handled,
        failed=cell.failed,
        restarts=cell.restarts,
        in_flight=cell.busy,
        recent_restarts=cell.recent_restarts(RECENT_RESTARTS_WINDOW),
    )


@asynccontextmanager
async def open_runtime(
    config: RuntimeConfig | None = None,
    *,
    span_exporter: SpanExporter | None = None,
    metric_reader: MetricReader | None = None,
) -> AsyncIterator[Mastra]:
    """Start the root ``Mastra`` actor, spawn the configured actors, yield its handle.

    On exit every actor is stopped in reverse start order (each within its grace period).
    If a restart escalation reaches the root, the block is cancelled and
    ``RestartIntensityExceeded`` is raised from it. Cancellation of the enclosing scope
    cancels every actor; ``on_stop`` hooks still run, shielded, within their grace.
    ``span_exporter`` / ``metric_reader`` add exporters (for example in-memory ones in tests).
    """
    cfg = config if config is not None else RuntimeConfig()
    tracing = Tracing(cfg.telemetry, span_exporter=span_exporter, metric_reader=metric_reader)
    startup_error: Exception | None = None
    try:
        try:
            async with trio.open_nursery() as nursery:
                rt = Mastra(cfg, tracing, nursery)
                try:
                    try:
                        await rt._spawn_configured()
                    except (ConfigError, ActorCrashed) as exc:
                        startup_error = exc  # raised below, outside the nursery
                    if startup_error is None:
                        yield rt
                finally:  # every way out stops the actors (their tasks are shielded)
                    with trio.CancelScope(shield=True):
                        await rt._shutdown()
        except BaseExceptionGroup as group:
            # Actor tasks never raise, so a group holds what the caller's block raised:
            # give it back as it was raised, not wrapped.
            inner = _single(group)
            if inner is group:
                raise
            raise inner from inner.__cause__
        if startup_error is not None:
            raise startup_error
        if rt._failure is not None:
            raise rt._failure
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(tracing.shutdown)
