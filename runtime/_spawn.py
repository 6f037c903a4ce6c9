"""Child specs: what ``spawn`` needs to (re)build an actor, and the options users pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar, runtime_checkable

from runtime._config import RestartType, SupervisionConfig

if TYPE_CHECKING:
    from runtime._actor import Actor

__all__ = ["ChildSpec", "SpawnOptions", "Spawnable", "Spawner"]

R_co = TypeVar("R_co", covariant=True)


class SpawnOptions(TypedDict, total=False):
    """Keyword options of ``spawn``.

    ``name`` (default: a unique name from the factory), ``kind`` (registry kind, default
    ``"actor"``), ``restart`` (``permanent | transient | temporary``), ``mailbox`` (capacity),
    ``concurrency`` (overrides the class attribute) and ``supervision`` (how this actor
    supervises its own children).
    """

    name: str
    kind: str
    restart: RestartType
    mailbox: int
    concurrency: int
    supervision: SupervisionConfig


class Spawner(Protocol):
    """Anything that can spawn actors: the runtime handle or an actor's context."""

    async def spawn(self, factory: Any, /, *args: Any, **options: Any) -> Any: ...


@runtime_checkable
class Spawnable(Protocol[R_co]):
    """A declarative spec (an agent, a workflow, ...) that knows how to spawn its actors.

    ``rt.spawn(spec)`` calls ``spec.spawn_in(rt)`` and returns what it returns, typically a
    typed handle around an ``ActorRef``.
    """

    def spawn_in(self, spawner: Spawner) -> Awaitable[R_co]: ...


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """Everything needed to build a fresh incarnation of one actor."""

    factory: Callable[..., Actor]
    args: tuple[Any, ...]
    name: str
    kind: str
    restart: RestartType
    mailbox: int
    concurrency: int
    supervision: SupervisionConfig
