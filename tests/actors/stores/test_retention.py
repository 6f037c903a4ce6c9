from __future__ import annotations

from actors.stores import SqliteStore, VectorStore, delete_thread, prune_messages
from actors.stores.messages import GetMessages, GetThread, NewMessage, SaveMessages, SaveThread
from actors.stores.vector_messages import CreateIndex, DescribeIndex, Upsert
from runtime import Mastra


async def test_delete_thread_removes_messages_and_vectors(rt: Mastra) -> None:
    store = await rt.spawn(SqliteStore, name="store", kind="store")
    vectors = await rt.spawn(VectorStore, name="vectors", kind="store")
    await vectors.ask(CreateIndex(index_name="memory", dimension=2))
    for thread in ("t1", "t2"):
        await store.ask(SaveThread(id=thread, resource_id="u"))
        ids = [f"{thread}-{i}" for i in range(3)]
        await store.ask(
            SaveMessages(
                messages=[NewMessage(id=i, thread_id=thread, role="user", content=i) for i in ids]
            )
        )
        await vectors.ask(Upsert(index_name="memory", ids=ids, vectors=[[1.0, 0.0]] * 3))
    deleted = await delete_thread(store, "t1", vectors=vectors, index_name="memory")
    assert deleted == ["t1-0", "t1-1", "t1-2"]
    assert await store.ask(GetThread(thread_id="t1")) is None
    assert await store.ask(GetMessages(thread_id="t1")) == []
    assert len(await store.ask(GetMessages(thread_id="t2"))) == 3
    assert (await vectors.ask(DescribeIndex(index_name="memory"))).count == 3


async def test_prune_by_age_and_count_keeps_important_messages(rt: Mastra) -> None:
    store = await rt.spawn(SqliteStore, name="store", kind="store")
    await store.ask(SaveThread(id="t", resource_id="u"))
    importance = [0.9, 0.1, 0.5, 0.1, 0.95, 0.2]
    messages = [
        NewMessage(
            id=f"m{i}",
            thread_id="t",
            resource_id="u",
            role="user",
            content=i,
            importance=w,
            created_at=float(i),
        )
        for i, w in enumerate(importance)
    ]
    await store.ask(SaveMessages(messages=messages))
    # age: m0 and m1 are older than 2.0, but m0 is protected by its importance
    assert await prune_messages(store, "u", older_than=2.0, protect_importance=0.8) == ["m1"]
    # count: keep 3 of m0, m2, m3, m4, m5: the least important go first (m3, then m5)
    assert await prune_messages(store, "u", keep_last=3) == ["m3", "m5"]
    left = await store.ask(GetMessages(thread_id="t"))
    assert [m.id for m in left] == ["m0", "m2", "m4"]
