"""``POST /api/memory/save-messages`` on a real server with a real SQLite store."""

from __future__ import annotations

from typing import Any

from actors.server import TokenConfig
from tests.actors.server.conftest import OpenServer

URL = "/api/memory/save-messages"


def _message(id_: str, text: str, role: str = "user", thread: str = "t1") -> dict[str, Any]:
    return {
        "id": id_,
        "threadId": thread,
        "resourceId": "u1",
        "role": role,
        "content": {"format": 2, "parts": [{"type": "text", "text": text}]},
        "createdAt": "2025-01-02T03:04:05.000Z",
    }


async def _texts(client: Any, thread: str = "t1") -> list[str]:
    response = await client.get(f"/api/memory/threads/{thread}/messages?agentId=echo")
    assert response.status_code == 200
    return [m["content"]["content"] for m in response.json()["messages"]]


async def test_saved_messages_create_the_thread_and_are_saved_once_per_id(
    open_agent_server: OpenServer,
) -> None:
    async with open_agent_server() as (_, client):
        body = {"agentId": "echo", "messages": [_message("m1", "hi"), _message("m2", "yo")]}
        saved = await client.post(URL, json=body)
        assert saved.status_code == 200
        got = saved.json()["messages"]
        assert [(m["id"], m["role"], m["content"]["content"]) for m in got] == [
            ("m1", "user", "hi"),
            ("m2", "user", "yo"),
        ]
        assert got[0]["createdAt"] == "2025-01-02T03:04:05.000Z"
        again = await client.post(URL, json=body)  # the same ids: updated, not duplicated
        assert again.status_code == 200
        assert await _texts(client) == ["hi", "yo"]
        thread = (await client.get("/api/memory/threads/t1?agentId=echo")).json()
        assert thread["resourceId"] == "u1"
        edited = {"messages": [_message("m2", "yo, edited", role="assistant")]}
        assert (await client.post(f"{URL}?agentId=echo", json=edited)).status_code == 200
        assert await _texts(client) == ["hi", "yo, edited"]


async def test_saved_messages_feed_the_agents_next_turn(open_agent_server: OpenServer) -> None:
    async with open_agent_server() as (_, client):
        message = {"threadId": "t2", "resourceId": "u1", "role": "user", "content": "earlier"}
        assert (await client.post(URL, json={"agentId": "echo", "messages": [message]})).is_success
        turn = {"messages": "now", "memory": {"thread": "t2", "resource": "u1"}}
        reply = await client.post("/api/agents/echo/generate", json=turn)
        assert reply.status_code == 200
        assert await _texts(client, "t2") == ["earlier", "now", "Echo: now"]


async def test_save_messages_bad_input(open_agent_server: OpenServer) -> None:
    cases: list[tuple[Any, int, str]] = [
        ({"messages": [_message("m1", "x")]}, 400, "agentId"),
        ({"agentId": "echo"}, 400, "messages"),
        ({"agentId": "echo", "messages": {}}, 400, "messages"),
        ({"agentId": "echo", "messages": [{"role": "user", "content": "x"}]}, 400, "messages.0"),
        ({"agentId": "echo", "messages": [{**_message("m", "x"), "role": "bot"}]}, 400, "role"),
        ({"agentId": "echo", "messages": [{**_message("m", "x"), "createdAt": "soon"}]}, 400, ""),
        ({"agentId": "plain", "messages": [_message("m1", "x")]}, 400, "agentId"),
        ({"agentId": "nope", "messages": [_message("m1", "x")]}, 404, ""),
    ]
    async with open_agent_server() as (_, client):
        for body, status, field in cases:
            response = await client.post(URL, json=body)
            assert response.status_code == status, (body, response.text)
            if status == 400:
                assert field in response.json()["issues"][0]["field"], (body, response.json())
        assert (
            await client.post(URL, json={"agentId": "echo", "messages": [_message("m1", "a")]})
        ).is_success
        moved = await client.post(
            URL, json={"agentId": "echo", "messages": [_message("m1", "b", thread="t9")]}
        )
        assert moved.status_code == 400  # a message id belongs to one thread
        assert moved.json()["issues"][0]["field"] == "messages"
        assert await _texts(client) == ["a"]
        assert (await client.get("/api/memory/threads/t9?agentId=echo")).status_code == 404


async def test_a_token_may_save_only_for_its_own_agents(open_agent_server: OpenServer) -> None:
    tokens = [TokenConfig(token="t", agents=["plain"])]
    async with open_agent_server(tokens=tokens) as (_, client):
        headers = {"authorization": "Bearer t"}
        body = {"agentId": "echo", "messages": [_message("m1", "x")]}
        refused = await client.post(f"{URL}?agentId=plain", json=body, headers=headers)
        assert refused.status_code == 400  # the query's agent, which has no memory
        direct = await client.post(f"{URL}?agentId=echo", json=body, headers=headers)
        assert direct.status_code == 403
