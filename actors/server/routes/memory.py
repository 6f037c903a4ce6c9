"""``/api/memory``: threads, their messages and working memory, from the SQLite store."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.agent import AgentRef
from actors.memory import Memory
from actors.server._context import AppContext
from actors.server._http import BadRequest, Issue, NotFound, allowed, decode_body, json_response
from actors.stores import InvalidRequest
from actors.stores.messages import (
    DeleteThread,
    EnsureThread,
    GetMessages,
    GetThread,
    GetWorkingMemory,
    ListThreads,
    MessageRecord,
    NewMessage,
    SaveMessages,
    SaveThread,
    SetWorkingMemory,
    ThreadRecord,
    Transaction,
)
from runtime import ActorRef

__all__ = ["routes"]


class ThreadBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/memory/threads``: create a thread for ``resourceId``."""

    resourceId: str
    threadId: str | None = None
    title: str = ""
    metadata: dict[str, Any] | None = None


class ThreadPatch(msgspec.Struct, frozen=True, kw_only=True):
    """``PATCH /api/memory/threads/:threadId``."""

    title: str | None = None
    metadata: dict[str, Any] | None = None


class WorkingMemoryBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST .../working-memory``: replace the note."""

    workingMemory: str
    resourceId: str | None = None


class ContentIn(msgspec.Struct, frozen=True, kw_only=True):
    """Mastra's format-2 message content: ``parts`` (text parts are kept) and ``content``."""

    format: int = 2
    parts: list[dict[str, Any]] = []
    content: str | None = None

    def text(self) -> str:
        """The text of the content: ``content``, else the text parts joined."""
        if self.content is not None:
            return self.content
        return "".join(str(p.get("text", "")) for p in self.parts if p.get("type") == "text")


class SavedMessageIn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of ``POST /api/memory/save-messages``."""

    threadId: str
    resourceId: str
    role: Literal["user", "assistant", "system"]
    content: str | ContentIn
    id: str | None = None
    type: str = "text"
    createdAt: str | float | None = None


class SaveMessagesBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /api/memory/save-messages``: ``agentId`` here or in the query string."""

    messages: list[SavedMessageIn]
    agentId: str | None = None


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def thread_json(thread: ThreadRecord) -> dict[str, Any]:
    """A thread in Mastra's shape."""
    return {
        "id": thread.id,
        "resourceId": thread.resource_id,
        "title": thread.title,
        "createdAt": _iso(thread.created_at),
        "updatedAt": _iso(thread.updated_at),
        "metadata": thread.metadata or None,
    }


def _text(content: Any) -> str:
    if isinstance(content, dict):
        inner = content.get("content", "")
        if isinstance(inner, list):
            return "".join(str(p.get("text", "")) for p in inner if isinstance(p, dict))
        return str(inner)
    return "" if content is None else str(content)


def message_json(message: MessageRecord) -> dict[str, Any]:
    """A stored message in Mastra's format-2 shape."""
    text = _text(message.content)
    millis = int(message.created_at * 1000)
    return {
        "id": message.id,
        "content": {
            "format": 2,
            "parts": [{"type": "text", "text": text, "createdAt": millis}],
            "content": text,
        },
        "role": message.role,
        "createdAt": _iso(message.created_at),
        "threadId": message.thread_id,
        "resourceId": message.resource_id,
    }


async def _memory(request: Request) -> tuple[ActorRef, AgentRef | None]:
    ctx = AppContext.of(request)
    agent: AgentRef | None = None
    agent_id = request.query_params.get("agentId")
    if agent_id is not None:
        ref = ctx.rt.lookup(agent_id, kind="agent")
        if ref is None:
            raise NotFound(f"Agent with id {agent_id} not found")
        agent = AgentRef(ref)
    store = ctx.rt.lookup(ctx.config.memory_store, kind="store")
    if store is None:
        raise NotFound("Memory is not configured")
    return store, agent


async def _thread(store: ActorRef, thread_id: str) -> ThreadRecord:
    thread: ThreadRecord | None = await store.ask(GetThread(thread_id=thread_id))
    if thread is None:
        raise NotFound("Thread not found")
    return thread


def _page(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise BadRequest(
            [Issue(field=name, message="Expected a non-negative integer", path=f"$.{name}")]
        )
    return int(raw)


async def status(request: Request) -> Response:
    """Whether the agent has memory."""
    _, agent = await _memory(request)
    has = True if agent is None else (await agent.info()).memory
    return json_response({"result": has, "memoryType": "local"})


async def config(request: Request) -> Response:
    """The agent's memory configuration, in Mastra's shape (``{config}``); 400 when the
    agent has no memory, as Mastra answers."""
    _, agent = await _memory(request)
    options = None if agent is None else (await agent.info()).memory_options
    if options is None:
        raise HTTPException(400, "Memory is not initialized")
    return json_response({"config": memory_config_json(options)})


def memory_config_json(options: Memory) -> dict[str, Any]:
    """Mastra's ``MemoryConfig`` for our ``Memory`` options."""
    recall = options.semantic_recall
    working = options.working_memory
    return {
        "lastMessages": options.last_messages if options.last_messages is not None else False,
        "semanticRecall": False
        if recall is None
        else {"topK": recall.top_k, "messageRange": recall.message_range, "scope": recall.scope},
        "workingMemory": {"enabled": False}
        if working is None
        else {
            "enabled": True,
            "scope": working.scope,
            **({"template": working.initial()} if working.schema is None else {}),
            **({"schema": working.schema} if working.schema is not None else {}),
        },
        "generateTitle": False,
    }


async def list_threads(request: Request) -> Response:
    """A resource's threads, newest first, paged."""
    store, _ = await _memory(request)
    resource = request.query_params.get("resourceId")
    if not resource:
        raise BadRequest(
            [Issue(field="resourceId", message="resourceId is required", path="$.resourceId")]
        )
    page, per_page = _page(request, "page", 0), max(1, _page(request, "perPage", 100))
    threads: list[ThreadRecord] = await store.ask(
        ListThreads(resource_id=resource, limit=per_page + 1, offset=page * per_page)
    )
    shown = threads[:per_page]
    return json_response(
        {
            "threads": [thread_json(t) for t in shown],
            "total": page * per_page + len(threads),
            "page": page,
            "perPage": per_page,
            "hasMore": len(threads) > per_page,
        }
    )


async def create_thread(request: Request) -> Response:
    """Create a thread (or update it, if the id exists)."""
    store, _ = await _memory(request)
    body = await decode_body(request, ThreadBody)
    thread_id = body.threadId or str(uuid.uuid4())
    saved: ThreadRecord = await store.ask(
        SaveThread(
            id=thread_id,
            resource_id=body.resourceId,
            title=body.title,
            metadata=body.metadata or {},
        )
    )
    return json_response(thread_json(saved))


async def get_thread(request: Request) -> Response:
    """One thread."""
    store, _ = await _memory(request)
    return json_response(thread_json(await _thread(store, request.path_params["thread_id"])))


async def update_thread(request: Request) -> Response:
    """Change a thread's title or metadata."""
    store, _ = await _memory(request)
    thread = await _thread(store, request.path_params["thread_id"])
    body = await decode_body(request, ThreadPatch)
    saved: ThreadRecord = await store.ask(
        SaveThread(
            id=thread.id,
            resource_id=thread.resource_id,
            title=thread.title if body.title is None else body.title,
            metadata=thread.metadata if body.metadata is None else body.metadata,
        )
    )
    return json_response(thread_json(saved))


async def delete_thread(request: Request) -> Response:
    """Delete a thread and its messages."""
    store, _ = await _memory(request)
    thread = await _thread(store, request.path_params["thread_id"])
    await store.ask(DeleteThread(thread_id=thread.id))
    return json_response({"result": "Thread deleted"})


async def thread_messages(request: Request) -> Response:
    """A thread's messages in order."""
    store, _ = await _memory(request)
    thread = await _thread(store, request.path_params["thread_id"])
    messages: list[MessageRecord] = await store.ask(GetMessages(thread_id=thread.id))
    return json_response(
        {
            "messages": [message_json(m) for m in messages],
            "total": len(messages),
            "page": 0,
            "perPage": max(len(messages), 40),
            "hasMore": False,
            "uiMessages": None,
        }
    )


def _scope(request: Request, thread: ThreadRecord) -> tuple[Literal["thread", "resource"], str]:
    resource = request.query_params.get("resourceId")
    return ("resource", resource) if resource else ("thread", thread.id)


async def get_working_memory(request: Request) -> Response:
    """The thread's (or, with ``resourceId``, the resource's) working memory."""
    store, _ = await _memory(request)
    thread = await _thread(store, request.path_params["thread_id"])
    scope, owner = _scope(request, thread)
    text: str | None = await store.ask(GetWorkingMemory(scope=scope, id=owner))
    return json_response({"workingMemory": text, "source": scope, "workingMemoryTemplate": None})


async def set_working_memory(request: Request) -> Response:
    """Replace the working memory."""
    store, _ = await _memory(request)
    thread = await _thread(store, request.path_params["thread_id"])
    body = await decode_body(request, WorkingMemoryBody)
    scope: Literal["thread", "resource"] = "resource" if body.resourceId else "thread"
    owner = body.resourceId or thread.id
    await store.ask(SetWorkingMemory(scope=scope, id=owner, working_memory=body.workingMemory))
    return json_response({"success": True, "updatedAt": _iso(time.time())})


def _created(value: str | float | None, index: int) -> float | None:
    """``createdAt`` (ISO 8601 text or epoch milliseconds) as epoch seconds."""
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value) / 1000
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        field = f"messages[{index}].createdAt"
        issue = Issue(field=field, message="Expected an ISO 8601 date", path=f"$.{field}")
        raise BadRequest([issue]) from None


def _new_message(message: SavedMessageIn, index: int) -> NewMessage:
    text = message.content if isinstance(message.content, str) else message.content.text()
    return NewMessage(
        id=message.id or str(uuid.uuid4()),
        thread_id=message.threadId,
        resource_id=message.resourceId,
        role=message.role,
        content={"role": message.role, "content": text},  # as agents store their turns
        type=message.type,
        created_at=_created(message.createdAt, index),
    )


async def save_messages(request: Request) -> Response:
    """Store messages in their threads (created when missing); saving a message id again
    updates that message, never duplicates it. All are stored in one commit, or none."""
    body = await decode_body(request, SaveMessagesBody)
    agent_id = request.query_params.get("agentId") or body.agentId
    if not agent_id:
        raise BadRequest([Issue(field="agentId", message="agentId is required", path="$.agentId")])
    if not allowed(request, "agents", agent_id):
        raise HTTPException(403, f"Forbidden: this token may not use agent {agent_id}")
    ctx = AppContext.of(request)
    agent = ctx.rt.lookup(agent_id, kind="agent")
    if agent is None:
        raise NotFound(f"Agent with id {agent_id} not found")
    if not (await AgentRef(agent).info()).memory:
        issue = Issue(field="agentId", message="Memory is not initialized", path="$.agentId")
        raise BadRequest([issue], error="Memory is not initialized")
    store, _ = await _memory(request)
    new = [_new_message(m, i) for i, m in enumerate(body.messages)]
    threads = {m.thread_id: m.resource_id or "" for m in new}
    ensure = [EnsureThread(id=t, resource_id=r) for t, r in threads.items()]
    try:
        *_, saved = await store.ask(Transaction(ops=[*ensure, SaveMessages(messages=new)]))
    except InvalidRequest as exc:  # an id already used in another thread
        raise BadRequest([Issue(field="messages", message=str(exc), path="$.messages")]) from None
    return json_response({"messages": [message_json(m) for m in saved]})


def routes() -> list[Route]:
    """The memory routes."""
    base = "/api/memory/threads/{thread_id}"
    return [
        Route("/api/memory/status", status, methods=["GET"]),
        Route("/api/memory/config", config, methods=["GET"]),
        Route("/api/memory/save-messages", save_messages, methods=["POST"]),
        Route("/api/memory/threads", list_threads, methods=["GET"]),
        Route("/api/memory/threads", create_thread, methods=["POST"]),
        Route(base, get_thread, methods=["GET"]),
        Route(base, update_thread, methods=["PATCH"]),
        Route(base, delete_thread, methods=["DELETE"]),
        Route(f"{base}/messages", thread_messages, methods=["GET"]),
        Route(f"{base}/working-memory", get_working_memory, methods=["GET"]),
        Route(f"{base}/working-memory", set_working_memory, methods=["POST"]),
    ]
