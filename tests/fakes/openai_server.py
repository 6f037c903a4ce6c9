"""A fake OpenAI API on loopback: ``/v1/chat/completions`` (JSON and SSE) and ``/v1/embeddings``.

Replies reproduce OpenAI's bytes: compact JSON, ``data: {...}\\n\\n`` events, a first delta with
``role``, tool calls streamed by ``index`` (id and name first, then argument pieces), a usage
chunk with ``"choices": []`` when ``stream_options.include_usage`` is set, ``data: [DONE]``.

```python
async with open_fake_openai() as fake:
    fake.replies.append(FakeReply(status=429, headers={"retry-after-ms": "10"}))
    ...  # point a client at fake.base_url ("http://127.0.0.1:<port>/v1")
    fake.requests[-1].json()
```
Without a queued reply the model answers ``Echo: <last user text>``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.fakes.fake_http import FakeReply, FakeVendor, Plan, RecordedRequest, open_fake_server

__all__ = ["FakeOpenAI", "expected_vector", "open_fake_openai"]

_CREATED = 1_764_000_000
_FINGERPRINT = "fp_fake0001"


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return ""


class FakeOpenAI(FakeVendor):
    """A fake OpenAI API on loopback."""

    @property
    def base_url(self) -> str:
        """The API base URL, ``http://127.0.0.1:<port>/v1``."""
        assert self.server is not None
        return f"{self.server.base_url}/v1"

    def _next(self, body: dict[str, Any]) -> FakeReply:
        if self.replies:
            return self.replies.popleft()
        return FakeReply(text=f"Echo: {_last_user_text(body)}")

    async def handle(self, request: RecordedRequest) -> Plan:
        """Answer one request."""
        try:
            body = request.json()
        except ValueError:
            return _error_plan(
                FakeReply(status=400, error_message="We could not parse the JSON body")
            )
        reply = self._next(body)
        if reply.status >= 400:
            return _error_plan(reply)
        if request.path.endswith("/embeddings"):
            return _with_knobs(reply, _embeddings(body), "application/json", chunked=False)
        if not request.path.endswith("/chat/completions"):
            return _error_plan(FakeReply(status=404, error_message=f"Unknown path {request.path}"))
        reply_id = self.next_id("chatcmpl-fake")
        model = reply.model or body.get("model", "gpt-fake")
        if body.get("stream"):
            usage = bool(body.get("stream_options", {}).get("include_usage"))
            data = _stream_body(reply, reply_id, model, usage)
            return _with_knobs(reply, data, "text/event-stream; charset=utf-8", chunked=True)
        return _with_knobs(
            reply, _completion(reply, reply_id, model), "application/json", chunked=False
        )


def _with_knobs(reply: FakeReply, body: bytes, content_type: str, *, chunked: bool) -> Plan:
    if reply.malformed and not chunked:
        body = body[: len(body) // 2]
    return Plan(
        status=200,
        headers=[("content-type", content_type), *reply.headers.items()],
        body=body,
        chunked=chunked,
        split_at=reply.split_at,
        piece_delay=reply.piece_delay,
        header_delay=reply.header_delay,
    )


def _error_plan(reply: FakeReply) -> Plan:
    error = {
        "message": reply.error_message,
        "type": reply.error_type
        or ("server_error" if reply.status >= 500 else "invalid_request_error"),
        "param": None,
        "code": reply.error_code,
    }
    return Plan(
        status=reply.status,
        headers=[("content-type", "application/json"), *reply.headers.items()],
        body=(_dump({"error": error}) + "\n").encode(),
        header_delay=reply.header_delay,
    )


def _usage(reply: FakeReply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _finish(reply: FakeReply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _call_id(reply: FakeReply, index: int) -> str:
    return reply.tool_calls[index].id or f"call_fake{index:02d}"


def _completion(reply: FakeReply, reply_id: str, model: str) -> bytes:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if reply.tool_calls else reply.text,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(reply, i),
                "type": "function",
                "function": {"name": call.name, "arguments": _dump(call.arguments)},
            }
            for i, call in enumerate(reply.tool_calls)
        ]
    document = {
        "id": reply_id,
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(reply)}
        ],
        "usage": _usage(reply),
        "service_tier": "default",
        "system_fingerprint": _FINGERPRINT,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _stream_events(reply: FakeReply, reply_id: str, model: str, usage: bool) -> list[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        document: dict[str, Any] = {
            "id": reply_id,
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage:
            document["usage"] = None
        return _dump(document)

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in ([] if reply.tool_calls else reply.chunks())]
    for index, call in enumerate(reply.tool_calls):
        first = {"index": index, "id": _call_id(reply, index), "type": "function"}
        first["function"] = {"name": call.name, "arguments": ""}
        events.append(chunk({"tool_calls": [first]}))
        text = _dump(call.arguments)
        for start in range(0, len(text), reply.args_chunk):
            piece = text[start : start + reply.args_chunk]
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    events.append(chunk({}, _finish(reply)))
    if usage:
        last = json.loads(events[0])
        last["choices"] = []
        last["usage"] = _usage(reply)
        events.append(_dump(last))
    return events


def _stream_body(reply: FakeReply, reply_id: str, model: str, usage: bool) -> bytes:
    events = _stream_events(reply, reply_id, model, usage)
    if reply.malformed:
        events.insert(1, '{"id": "broken", "choices": [')
    if reply.error_after_events is not None:
        error = {"message": reply.error_message, "type": reply.error_type or "server_error"}
        events = [*events[: reply.error_after_events], _dump({"error": error})]
    elif reply.cut_after_events is not None:
        return "".join(f"data: {e}\n\n" for e in events[: reply.cut_after_events]).encode()
    return ("".join(f"data: {e}\n\n" for e in events) + "data: [DONE]\n\n").encode()


def _vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((digest[i % len(digest)] - 128) / 128, 4) for i in range(dimensions)]


def _embeddings(body: dict[str, Any]) -> bytes:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    dimensions = int(body.get("dimensions", 8))
    data = []
    for index, text in enumerate(inputs):
        vector = _vector(text, dimensions)
        if body.get("encoding_format") == "base64":
            raw = struct.pack(f"<{len(vector)}f", *vector)
            embedding: Any = base64.b64encode(raw).decode()
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(t.split()) for t in inputs)
    document = {
        "object": "list",
        "data": data,
        "model": body.get("model", "text-embedding-fake"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return (json.dumps(document) + "\n").encode()


def expected_vector(text: str, dimensions: int = 8) -> list[float]:
    """The vector the fake answers for ``text`` (as float32 would round it, use approx)."""
    return _vector(text, dimensions)


@asynccontextmanager
async def open_fake_openai() -> AsyncIterator[FakeOpenAI]:
    """Start the fake on a free loopback port for the duration of the block."""
    fake = FakeOpenAI()
    async with open_fake_server(fake.handle) as server:
        fake.server = server
        yield fake


def main() -> None:
    """Serve the fake on a free loopback port until killed; print ``{"port": N}`` first."""
    import trio

    async def run() -> None:
        async with open_fake_openai() as fake:
            assert fake.server is not None
            fake.server.record = False
            print(json.dumps({"port": fake.server.port}), flush=True)
            await trio.sleep_forever()

    trio.run(run)


if __name__ == "__main__":
    main()
