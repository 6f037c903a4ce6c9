"""``/v1/chat/completions`` and ``/v1/models`` through the official ``openai`` client
against a real server on a loopback port."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from actors.agent import Agent
from actors.demo import add
from actors.demo.agent import echo
from actors.llm import HashEmbedConfig, ScriptedConfig, spawn_provider
from actors.llm._config import ScriptedTurn, ScriptRule
from actors.server import GetAddress, Server, ServerConfig, TokenConfig
from actors.stores import SqliteStore
from runtime.testing import open_test_runtime

RULES = [
    ScriptRule(match=r"fail upstream", turns=[ScriptedTurn(error="unavailable")]),
    ScriptRule(match=r"refuse this", turns=[ScriptedTurn(error="bad_request")]),
    ScriptRule(match=r"contact", turns=[ScriptedTurn(structured={"name": "Ada"})]),
]
OTHER = Agent(name="other", instructions="", model="scripted", tools=[add])


@asynccontextmanager
async def _serve(**options: Any) -> AsyncIterator[tuple[AsyncOpenAI, httpx.AsyncClient]]:
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig(rules=RULES))
        await spawn_provider(t.rt, "hash", HashEmbedConfig(dimension=64))
        await t.rt.spawn(SqliteStore, ":memory:", name="store", kind="store")
        await t.rt.spawn(add)
        await t.rt.spawn(echo)
        await t.rt.spawn(OTHER)
        server = await t.rt.spawn(Server, ServerConfig(port=0, **options), name="server")
        base = await server.ask(GetAddress())
        key = options["tokens"][0].token if options.get("tokens") else "unused"
        client = AsyncOpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
        async with client, httpx.AsyncClient(base_url=base) as http:
            yield client, http


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_a_completion_has_openai_shape_and_usage() -> None:
    async with _serve() as (client, http):
        done = await client.chat.completions.create(model="echo", messages=_user("hello there"))
        assert done.object == "chat.completion" and done.id.startswith("chatcmpl-")
        assert done.model == "echo" and len(done.choices) == 1
        choice = done.choices[0]
        assert choice.message.role == "assistant"
        assert choice.message.content == "Echo: hello there"
        assert choice.message.tool_calls is None and choice.finish_reason == "stop"
        assert done.usage is not None and done.usage.prompt_tokens > 0
        assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
        raw = await http.post("/v1/chat/completions", json={"model": "echo", "messages": "hi"})
        assert raw.status_code == 400  # a string is not OpenAI's message list
        assert raw.json()["error"]["param"] == "messages"


async def test_the_agents_tool_calls_are_in_the_assistant_message() -> None:
    async with _serve() as (client, _):
        done = await client.chat.completions.create(
            model="echo", messages=_user("please add 2 and 40")
        )
        message = done.choices[0].message
        assert message.content == "The sum is 42."
        assert message.tool_calls is not None and len(message.tool_calls) == 1
        call = message.tool_calls[0]
        assert call.type == "function" and call.function.name == "add"
        assert json.loads(call.function.arguments) == {"a": 2, "b": 40}
        assert done.choices[0].finish_reason == "stop"


async def test_a_stream_sends_chunks_then_usage_then_done() -> None:
    async with _serve() as (client, http):
        stream = await client.chat.completions.create(
            model="echo",
            messages=_user("hello big world"),
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert all(c.object == "chat.completion.chunk" for c in chunks)
        assert len({c.id for c in chunks}) == 1
        assert chunks[0].choices[0].delta.role == "assistant"
        pieces = [c.choices[0].delta.content for c in chunks if c.choices]
        assert len([p for p in pieces if p]) > 1
        assert "".join(p or "" for p in pieces) == "Echo: hello big world"
        finish, usage = chunks[-2], chunks[-1]
        assert finish.choices[0].finish_reason == "stop"
        assert usage.choices == [] and usage.usage is not None and usage.usage.total_tokens > 0
        body = {"model": "echo", "messages": _user("hi"), "stream": True}
        raw = await http.post("/v1/chat/completions", json=body)
        assert raw.headers["content-type"].startswith("text/event-stream")
        events = [e for e in raw.text.split("\n\n") if e]
        assert events[-1] == "data: [DONE]"
        assert all(e.startswith("data: {") for e in events[:-1])
        assert all("usage" not in json.loads(e[6:]) for e in events[:-1])


async def test_a_streamed_tool_call_arrives_as_a_tool_calls_delta() -> None:
    async with _serve() as (client, _):
        stream = await client.chat.completions.create(
            model="echo", messages=_user("add 1 and 2"), stream=True
        )
        chunks = [chunk async for chunk in stream]
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        calls = [call for d in deltas for call in d.tool_calls or []]
        assert [(c.index, c.function and c.function.name) for c in calls] == [(0, "add")]
        assert calls[0].id and calls[0].type == "function"
        assert "".join(d.content or "" for d in deltas) == "The sum is 3."
        assert chunks[-1].choices[0].finish_reason == "stop"


async def test_every_role_and_content_parts_are_accepted() -> None:
    image = "data:image/png;base64,iVBORw0KGgo="
    messages: list[Any] = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Really brief."}]},
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"sum": 3}'},
        {"role": "assistant", "content": [{"type": "text", "text": "The sum is 3."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": image}},
                {"type": "text", "text": "here"},
            ],
        },
    ]
    async with _serve() as (client, _):
        done = await client.chat.completions.create(model="echo", messages=messages)
        assert done.choices[0].message.content == "Echo: look\nhere"
        # An answer sent back unchanged (tool calls without their results) is accepted.
        first = await client.chat.completions.create(model="echo", messages=_user("add 5 and 6"))
        sent_back: Any = first.choices[0].message.model_dump(exclude_none=True)
        again = await client.chat.completions.create(
            model="echo", messages=[*_user("add 5 and 6"), sent_back, *_user("thanks")]
        )
        assert again.choices[0].message.content == "Echo: thanks"


async def test_tools_from_the_client_are_accepted_and_the_agents_own_are_used() -> None:
    tool: Any = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    async with _serve() as (client, _):
        done = await client.chat.completions.create(
            model="echo", messages=_user("add 2 and 2"), tools=[tool], tool_choice="auto"
        )
        calls = done.choices[0].message.tool_calls or []
        assert [c.model_dump()["function"]["name"] for c in calls] == ["add"]


async def test_memory_with_user_and_the_thread_header() -> None:
    headers = {"x-mastra-thread-id": "t-openai"}
    async with _serve() as (client, http):
        for text in ("hello one", "hello two"):
            await client.chat.completions.create(
                model="echo", messages=_user(text), user="u1", extra_headers=headers
            )
        stored = await http.get("/api/memory/threads/t-openai/messages?agentId=echo")
        assert stored.status_code == 200
        texts = [m["content"]["content"] for m in stored.json()["messages"]]
        assert texts == ["hello one", "Echo: hello one", "hello two", "Echo: hello two"]
        threads = (await http.get("/api/memory/threads?resourceId=u1&agentId=echo")).json()
        assert [t["id"] for t in threads["threads"]] == ["t-openai"]
        with pytest.raises(openai.BadRequestError) as missing:
            await client.chat.completions.create(
                model="echo", messages=_user("hi"), extra_headers=headers
            )
        assert missing.value.param == "user"


async def test_models_list_every_agent() -> None:
    async with _serve() as (client, http):
        models = await client.models.list()
        assert [m.id for m in models.data] == ["echo", "other"]
        assert all(m.object == "model" and m.created > 0 for m in models.data)
        assert (await client.models.retrieve("echo")).id == "echo"
        with pytest.raises(openai.NotFoundError) as missing:
            await client.models.retrieve("nope")
        assert missing.value.code == "model_not_found"
        assert (await http.get("/v1/models")).json()["object"] == "list"


async def test_an_unknown_model_is_404_in_openai_shape() -> None:
    async with _serve() as (client, http):
        with pytest.raises(openai.NotFoundError) as missing:
            await client.chat.completions.create(model="nope", messages=_user("hi"))
        assert missing.value.param == "model" and missing.value.code == "model_not_found"
        raw = await http.post("/v1/chat/completions", json={"model": "nope", "messages": []})
        assert raw.status_code == 404
        assert raw.json() == {
            "error": {
                "message": "The model `nope` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }
        }


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"messages": _user("hi")}, "model"),
    ({"model": "echo"}, "messages"),
    ({"model": "echo", "messages": []}, "messages"),
    ({"model": "echo", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"model": "echo", "messages": [{"role": "user"}]}, "messages[0].content"),
    (
        {"model": "echo", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
        "messages[0].content[0].type",
    ),
    (
        {
            "model": "echo",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:x,!!"}}],
                }
            ],
        },
        "messages[0].content[0].image_url.url",
    ),
    (
        {"model": "echo", "messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]},
        "messages[0].tool_call_id",
    ),
    ({"model": "echo", "messages": _user("hi"), "n": 2}, "n"),
    ({"model": "echo", "messages": _user("hi"), "temperature": 3}, "temperature"),
    ({"model": "echo", "messages": _user("hi"), "stream": "yes"}, "stream"),
    (
        {
            "model": "echo",
            "messages": _user("hi"),
            "tool_choice": {"type": "function", "function": {"name": "nope"}},
        },
        "tool_choice.function.name",
    ),
    (
        {"model": "echo", "messages": _user("hi"), "response_format": {"type": "json_object"}},
        "response_format.type",
    ),
    (
        {"model": "echo", "messages": _user("hi"), "response_format": {"type": "json_schema"}},
        "response_format.json_schema.schema",
    ),
]


async def test_bad_input_is_400_naming_the_field() -> None:
    robot: Any = {"role": "robot", "content": "x"}
    async with _serve() as (client, http):
        for body, param in BAD_BODIES:
            response = await http.post("/v1/chat/completions", json=body)
            assert response.status_code == 400, (body, response.text)
            error = response.json()["error"]
            assert error["param"] == param, (body, error)
            assert error["type"] == "invalid_request_error" and param in error["message"]
            assert set(error) == {"message", "type", "param", "code"}
        broken = await http.post("/v1/chat/completions", content=b"{not json")
        assert broken.status_code == 400 and broken.json()["error"]["param"] is None
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(model="echo", messages=[robot])
        assert refused.value.param == "messages[0].role"


async def test_structured_output_through_response_format() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}
    async with _serve() as (client, _):
        done = await client.chat.completions.create(
            model="echo", messages=_user("extract the contact"), response_format=fmt
        )
        assert json.loads(done.choices[0].message.content or "") == {"name": "Ada"}


async def test_model_failures_keep_openai_shape() -> None:
    async with _serve() as (client, _):
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(model="echo", messages=_user("refuse this"))
        assert refused.value.param == "messages"
        with pytest.raises(openai.APIStatusError) as upstream:
            await client.chat.completions.create(model="echo", messages=_user("fail upstream"))
        assert upstream.value.status_code == 502
        assert upstream.value.type == "server_error"
        stream = await client.chat.completions.create(
            model="echo", messages=_user("fail upstream"), stream=True
        )
        with pytest.raises(openai.APIError) as failed:
            async for _ in stream:
                pass
        assert "scripted failure" in failed.value.message


async def test_tokens_guard_v1_like_the_other_routes() -> None:
    tokens = [TokenConfig(token="only-other", agents=["other"])]
    async with _serve(tokens=tokens) as (client, http):
        assert (await client.chat.completions.create(model="other", messages=_user("hi"))).choices
        with pytest.raises(openai.PermissionDeniedError) as forbidden:
            await client.chat.completions.create(model="echo", messages=_user("hi"))
        assert forbidden.value.param == "model"
        assert [m.id for m in (await client.models.list()).data] == ["other"]
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("echo")
        anonymous = await http.get("/v1/models")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "invalid_api_key"
        wrong = AsyncOpenAI(base_url=client.base_url, api_key="wrong", max_retries=0)
        async with wrong:
            with pytest.raises(openai.AuthenticationError):
                await wrong.chat.completions.create(model="other", messages=_user("hi"))
        assert (await http.get("/health")).status_code == 200
