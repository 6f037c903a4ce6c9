from __future__ import annotations

import trio
import trio.testing

from actors.stores.cache import (
    CacheActor,
    CacheDelete,
    CacheGet,
    CachePut,
    CacheStats,
    GetCacheStats,
    LRUCache,
    embedding_key,
)
from runtime import open_runtime


def test_lru_eviction_and_stats() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now most recent
    cache.put("c", 3)  # evicts b
    assert cache.get("b") is None
    assert "a" in cache and "c" in cache
    assert cache.stats() == CacheStats(hits=1, misses=1, evictions=1, expirations=0, size=2)
    assert cache.delete("a") and not cache.delete("a")


def test_ttl_expiry_with_a_fake_clock() -> None:
    now = [0.0]
    cache: LRUCache[str, str] = LRUCache(10, ttl=5, clock=lambda: now[0])
    cache.put("k", "v")
    now[0] = 4.9
    assert cache.get("k") == "v"
    now[0] = 5.0
    assert cache.get("k") is None
    cache.put("x", "y")
    now[0] = 20
    assert cache.purge_expired() == 1
    stats = cache.stats()
    assert (stats.expirations, stats.size, stats.misses) == (2, 0, 1)


def test_embedding_key_is_stable_and_model_scoped() -> None:
    assert embedding_key("m", "hi") == embedding_key("m", "hi")
    assert embedding_key("m", "hi") != embedding_key("n", "hi")


async def test_cache_actor_expires_on_the_trio_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_runtime() as rt:
        ref = await rt.spawn(CacheActor, 100, 60.0, name="cache")
        await ref.ask(CachePut(key=embedding_key("m", "text"), value=[0.1, 0.2]))
        assert await ref.ask(CacheGet(key=embedding_key("m", "text"))) == [0.1, 0.2]
        await trio.sleep(61)
        assert await ref.ask(CacheGet(key=embedding_key("m", "text"))) is None
        assert await ref.ask(CacheDelete(key="nothing")) is False
        stats = await ref.ask(GetCacheStats())
        assert (stats.hits, stats.misses, stats.expirations) == (1, 1, 1)
