"""Agent streams over a WebSocket: ``/api/agents/:agentId/ws``.

One socket carries any number of turns, one after the other. The client sends a text frame
holding the body of ``POST /api/agents/:agentId/stream``; the server answers with one text
frame per chunk, shaped as the server-sent events of that route, and a last frame
``[DONE]``. A frame that is not a valid body is answered with ``{"error", "issues"}`` (as a
400 would be) and the socket stays open for the next one. Closing the socket during a turn
cancels the turn, as leaving the event stream does. An unknown agent closes the handshake
with code 4404.
"""

from __future__ import annotations

from contextlib import aclosing

import msgspec
import trio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from actors.agent import AgentChunk, AgentRef
from actors.agent.messages import StreamGenerate
from actors.server import _turns as turns
from actors.server._agent_wire import GenerateBody, chunk_json
from actors.server._context import AppContext
from actors.server._http import BadRequest, decode_json
from actors.server.routes.agents import turn_fields

__all__ = ["routes"]

_json = msgspec.json.Encoder()
UNKNOWN_AGENT = 4404
PENDING = 16
"""Frames a client may send ahead while a turn runs; more wait in the socket."""


async def agent_socket(websocket: WebSocket) -> None:
    """Serve turns on one socket until the client closes it.

    A reader task takes the client's frames (up to ``PENDING`` wait while a turn runs) and
    cancels everything when the client goes away, so a turn in progress is cancelled then.
    """
    agent_id = websocket.path_params["agent_id"]
    agent = turns.find_agent(AppContext.of(websocket), agent_id)
    if agent is None:
        await websocket.close(UNKNOWN_AGENT, f"Agent with id {agent_id} not found")
        return
    await websocket.accept()
    send_frame, frames = trio.open_memory_channel[bytes](PENDING)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read, websocket, send_frame, nursery.cancel_scope)
        async with frames:
            async for frame in frames:
                await _turn(websocket, agent, frame)


async def _read(
    websocket: WebSocket, frames: trio.MemorySendChannel[bytes], scope: trio.CancelScope
) -> None:
    async with frames:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                scope.cancel()
                return
            text = message.get("text")
            await frames.send(text.encode() if text is not None else message.get("bytes", b""))


async def _turn(websocket: WebSocket, agent: AgentRef, frame: bytes) -> None:
    """Answer one frame: the turn's chunks then ``[DONE]``, or the body's problems."""
    try:
        msg = StreamGenerate(**turn_fields(decode_json(frame, GenerateBody)))
    except BadRequest as exc:
        issues = [{"field": i.field, "message": i.message, "path": i.path} for i in exc.issues]
        await websocket.send_text(_json.encode({"error": exc.error, "issues": issues}).decode())
        return

    def encode(chunk: AgentChunk) -> bytes:
        return _json.encode(chunk_json(chunk, agent.name))

    async with aclosing(turns.encoded_chunks(agent, msg, encode)) as frames:
        async for data in frames:
            await websocket.send_text(data.decode())
    await websocket.send_text("[DONE]")


def routes() -> list[WebSocketRoute]:
    """The WebSocket routes of agents."""
    return [WebSocketRoute("/api/agents/{agent_id}/ws", agent_socket)]
