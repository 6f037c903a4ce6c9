"""A fake Anthropic Messages API on loopback: ``POST /v1/messages``, JSON and event stream.

Streams reproduce Anthropic's event sequence and bytes: ``event: <type>\\ndata: {json}\\n\\n``
with ``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``
(``text_delta`` / ``input_json_delta``), ``content_block_stop``, ``message_delta`` (stop
reason and output tokens), ``message_stop``; ``error`` events mid-stream; errors as
``{"type": "error", "error": {"type", "message"}}`` (529 is ``overloaded_error``).

```python
async with open_fake_anthropic() as fake:
    fake.replies.append(FakeReply(status=529))
    ...  # point a client at fake.base_url
```
Without a queued reply the model answers ``Echo: <last user text>``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.fakes.fake_http import FakeReply, FakeVendor, Plan, RecordedRequest, open_fake_server

__all__ = ["FakeAnthropic", "open_fake_anthropic"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content if b.get("type") == "text"]
        if texts:
            return " ".join(texts)
    return ""


class FakeAnthropic(FakeVendor):
    """A fake Anthropic API on loopback."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the client appends ``/v1/messages``)."""
        assert self.server is not None
        return self.server.base_url

    async def handle(self, request: RecordedRequest) -> Plan:
        """Answer one request."""
        try:
            body = request.json()
        except ValueError:
            return _error_plan(
                FakeReply(status=400, error_message="There was an error parsing the body.")
            )
        if "max_tokens" not in body:
            return _error_plan(FakeReply(status=400, error_message="max_tokens: Field required"))
        reply = self.replies.popleft() if self.replies else None
        reply = reply or FakeReply(text=f"Echo: {_last_user_text(body)}")
        if reply.status >= 400:
            return _error_plan(reply)
        message_id = self.next_id("msg_fake")
        model = reply.model or body.get("model", "claude-fake")
        if body.get("stream"):
            data = _stream_body(reply, message_id, model)
            content_type = "text/event-stream; charset=utf-8"
        else:
            data = (json.dumps(_message(reply, message_id, model, final=True)) + "\n").encode()
            data = data[: len(data) // 2] if reply.malformed else data
            content_type = "application/json"
        return Plan(
            headers=[
                ("content-type", content_type),
                ("request-id", f"req_{message_id}"),
                *reply.headers.items(),
            ],
            body=data,
            chunked=bool(body.get("stream")),
            split_at=reply.split_at,
            piece_delay=reply.piece_delay,
            header_delay=reply.header_delay,
        )


def _error_plan(reply: FakeReply) -> Plan:
    kind = reply.error_type or _ERROR_TYPES.get(reply.status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": reply.error_message}}
    return Plan(
        status=reply.status,
        headers=[("content-type", "application/json"), *reply.headers.items()],
        body=_dump(body).encode(),
        header_delay=reply.header_delay,
    )


def _stop_reason(reply: FakeReply) -> str:
    return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")


def _tool_id(reply: FakeReply, index: int) -> str:
    return reply.tool_calls[index].id or f"toolu_fake{index:02d}"


def _message(reply: FakeReply, message_id: str, model: str, *, final: bool) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if final and reply.text and not reply.tool_calls:
        content.append({"type": "text", "text": reply.text})
    if final:
        for index, call in enumerate(reply.tool_calls):
            content.append(
                {
                    "type": "tool_use",
                    "id": _tool_id(reply, index),
                    "name": call.name,
                    "input": call.arguments,
                }
            )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(reply) if final else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": reply.output_tokens if final else 1,
        },
    }


def _blocks(reply: FakeReply) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    if not reply.tool_calls:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        events.append(("ping", {"type": "ping"}))
        for piece in reply.chunks():
            delta = {"type": "text_delta", "text": piece}
            events.append(
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    for index, call in enumerate(reply.tool_calls):
        block = {"type": "tool_use", "id": _tool_id(reply, index), "name": call.name, "input": {}}
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        text = _dump(call.arguments)
        for start in range(0, len(text), reply.args_chunk):
            delta = {
                "type": "input_json_delta",
                "partial_json": text[start : start + reply.args_chunk],
            }
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def _stream_events(reply: FakeReply, message_id: str, model: str) -> list[tuple[str, str]]:
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {"type": "message_start", "message": _message(reply, message_id, model, final=False)},
        )
    ]
    events += _blocks(reply)
    delta = {"stop_reason": _stop_reason(reply), "stop_sequence": None}
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    rendered = [(name, _dump(data)) for name, data in events]
    if reply.malformed:
        rendered.insert(1, ("content_block_start", '{"type":"content_block_start","index":'))
    return rendered


def _stream_body(reply: FakeReply, message_id: str, model: str) -> bytes:
    events = _stream_events(reply, message_id, model)
    if reply.error_after_events is not None:
        kind = reply.error_type or "overloaded_error"
        error = _dump({"type": "error", "error": {"type": kind, "message": reply.error_message}})
        events = [*events[: reply.error_after_events], ("error", error)]
    elif reply.cut_after_events is not None:
        events = events[: reply.cut_after_events]
    return "".join(f"event: {name}\ndata: {data}\n\n" for name, data in events).encode()


@asynccontextmanager
async def open_fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    """Start the fake on a free loopback port for the duration of the block."""
    fake = FakeAnthropic()
    async with open_fake_server(fake.handle) as server:
        fake.server = server
        yield fake
