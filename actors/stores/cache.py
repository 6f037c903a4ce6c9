"""An LRU cache with a time-to-live, a size limit and stats; a plain object or an actor.

```python
cache: LRUCache[str, list[float]] = LRUCache(max_entries=10_000, ttl=3600)
key = embedding_key("hash-384", text)
vector = cache.get(key)
if vector is None:
    vector = await embed(text)
    cache.put(key, vector)

ref = await rt.spawn(CacheActor, 10_000, 3600.0, name="embeddings-cache")
await ref.ask(CachePut(key=key, value=vector))
```
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, assert_never

import msgspec
import trio

from actors.stores._errors import InvalidRequest
from runtime import Actor

__all__ = [
    "CacheActor",
    "CacheClear",
    "CacheDelete",
    "CacheGet",
    "CachePut",
    "CacheRequest",
    "CacheStats",
    "GetCacheStats",
    "LRUCache",
    "embedding_key",
]

K = TypeVar("K")
V = TypeVar("V")


class CacheStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counters since the cache was created, and its current size."""

    hits: int
    misses: int
    evictions: int
    expirations: int
    size: int


class LRUCache(Generic[K, V]):
    """Least-recently-used cache of at most ``max_entries``, each living ``ttl`` seconds.

    ``ttl=None`` keeps entries until evicted. ``clock`` (default ``time.monotonic``) can be
    replaced in tests (for example with ``trio.current_time`` under a ``MockClock``). Not
    thread-safe: use it from one thread (the Trio thread).
    """

    def __init__(
        self,
        max_entries: int,
        ttl: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise InvalidRequest(f"`max_entries` must be at least 1, got {max_entries}")
        if ttl is not None and ttl <= 0:
            raise InvalidRequest(f"`ttl` must be positive, got {ttl}")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.hits = self.misses = self.evictions = self.expirations = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        entry = self._data.get(key)  # type: ignore[arg-type]
        return entry is not None and not self._expired(entry[0])

    def _expired(self, expires: float) -> bool:
        return expires <= self._clock()

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value for ``key`` (and mark it recently used), or ``default`` on a miss."""
        entry = self._data.get(key)
        if entry is None:
            self.misses += 1
            return default
        if self._expired(entry[0]):
            del self._data[key]
            self.expirations += 1
            self.misses += 1
            return default
        self._data.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: K, value: V) -> None:
        """Store ``value``, evicting the least recently used entries beyond the limit."""
        expires = float("inf") if self.ttl is None else self._clock() + self.ttl
        self._data[key] = (expires, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)
            self.evictions += 1

    def delete(self, key: K) -> bool:
        """Forget ``key``; True if it was cached."""
        return self._data.pop(key, None) is not None

    def clear(self) -> None:
        """Forget every entry (the counters stay)."""
        self._data.clear()

    def purge_expired(self) -> int:
        """Drop every expired entry now; return how many."""
        now = self._clock()
        dead = [k for k, (expires, _) in self._data.items() if expires <= now]
        for key in dead:
            del self._data[key]
        self.expirations += len(dead)
        return len(dead)

    def stats(self) -> CacheStats:
        """The counters and current size."""
        return CacheStats(
            hits=self.hits,
            misses=self.misses,
            evictions=self.evictions,
            expirations=self.expirations,
            size=len(self._data),
        )


def embedding_key(model: str, text: str) -> str:
    """A cache key for the embedding of ``text`` by ``model`` (sha256, fixed length)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{model}:{digest}"


class CacheGet(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Reply the cached value or None."""

    key: str


class CachePut(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cache ``value`` (any JSON-encodable value) under ``key``."""

    key: str
    value: Any


class CacheDelete(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Forget ``key``; replies True if it was cached."""

    key: str


class CacheClear(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Forget every entry."""


class GetCacheStats(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Reply ``CacheStats``."""


CacheRequest = CacheGet | CachePut | CacheDelete | CacheClear | GetCacheStats


class CacheActor(Actor):
    """An ``LRUCache`` behind a mailbox, shared by every actor that knows its name.

    Handles ``CacheRequest`` messages one at a time (each is a dict operation, no waiting).
    The TTL clock is the Trio clock, so a ``MockClock`` drives expiry in tests.
    """

    concurrency: ClassVar[int] = 1

    def __init__(self, max_entries: int = 10_000, ttl: float | None = None) -> None:
        self.cache: LRUCache[str, Any] = LRUCache(max_entries, ttl, clock=trio.current_time)

    async def receive(self, msg: CacheRequest) -> Any:
        """Apply one cache operation and reply its result."""
        match msg:
            case CacheGet():
                return self.cache.get(msg.key)
            case CachePut():
                self.cache.put(msg.key, msg.value)
                return None
            case CacheDelete():
                return self.cache.delete(msg.key)
            case CacheClear():
                self.cache.clear()
                return None
            case GetCacheStats():
                return self.cache.stats()
            case _:
                assert_never(msg)
