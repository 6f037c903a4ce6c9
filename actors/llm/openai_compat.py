"""OpenAI-compatible vendors (OpenAI, DeepSeek, Groq, Ollama ``/v1``): chat, streaming,
function calling, image input and embeddings (float or base64, batched).

```python
async with httpx.AsyncClient() as http:
    client = OpenAICompatClient(OpenAICompatConfig(vendor="deepseek", model="deepseek-chat"), http)
    result = await client.chat(ChatRequest(messages=[UserMessage(content="hi")]))
```
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import partial
from typing import Any

import httpx
import msgspec
import numpy as np
import trio

from actors.llm._client import HttpChatClient, StreamAssembler, api_key_from_env
from actors.llm._config import OpenAICompatConfig
from actors.llm._errors import BadRequestError, ProtocolError
from actors.llm._http import HttpTransport
from actors.llm._openai_stream import OpenAIAssembler
from actors.llm._openai_wire import decode_completion, encode_chat, openai_error
from actors.llm._retry import retry_call
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import ChatRequest, ChatResult, EmbeddingResult, EmbedRequest, Usage

__all__ = ["OpenAICompatClient"]

_EMBED_CONCURRENCY = 4


class _Embedding(msgspec.Struct):
    index: int
    embedding: list[float] | str


class _EmbedUsage(msgspec.Struct):
    prompt_tokens: int = 0


class _EmbedReply(msgspec.Struct):
    data: list[_Embedding]
    model: str = ""
    usage: _EmbedUsage | None = None


_embed_reply = msgspec.json.Decoder(_EmbedReply)
_encoder = msgspec.json.Encoder()


def _vector(value: list[float] | str, provider: str) -> list[float]:
    if isinstance(value, list):
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ProtocolError(f"embedding is not base64: {exc}", provider=provider) from None
    if len(raw) % 4:
        raise ProtocolError("base64 embedding is not a float32 array", provider=provider)
    vector: list[float] = np.frombuffer(raw, dtype="<f4").astype(float).tolist()
    return vector


class OpenAICompatClient(HttpChatClient):
    """The ``ModelClient`` of an OpenAI-compatible vendor over a shared ``httpx`` client.

    The API key is read from the configured environment variable at each request; a
    missing key fails the request with ``AuthenticationError``.
    """

    def __init__(
        self,
        config: OpenAICompatConfig,
        http: httpx.AsyncClient,
        telemetry: GenAITelemetry | None = None,
    ) -> None:
        provider = config.vendor
        transport = HttpTransport(http, provider, partial(openai_error, provider))
        super().__init__(
            transport,
            retry=config.retry,
            timeouts=config.timeouts,
            telemetry=telemetry or GenAITelemetry(provider, base_url=config.url),
            default_model=config.model,
        )
        self.config = config
        self.chat_url = f"{config.url}/chat/completions"
        self.embeddings_url = f"{config.url}/embeddings"
        self._http = http

    def headers(self) -> Mapping[str, str]:
        """JSON content type, the bearer key (if the vendor takes one) and config headers."""
        headers = {"content-type": "application/json", **self.config.headers}
        key = api_key_from_env(self.config.key_env, self.provider)
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        return headers

    def encode(self, request: ChatRequest, model: str, *, stream: bool) -> bytes:
        """The chat body with the vendor's quirks (no ``tool_choice`` for Ollama)."""
        cfg = self.config
        return encode_chat(
            request,
            model,
            stream=stream,
            tool_choice=cfg.sends_tool_choice,
            stream_usage=cfg.stream_usage,
            max_tokens_field=cfg.max_tokens_field,
        )

    def decode(self, body: bytes, request: ChatRequest) -> ChatResult:
        """A non-streamed completion."""
        return decode_completion(body, self.provider, request.model or "")

    def assembler(self, model: str, request: ChatRequest) -> StreamAssembler:
        """An assembler for ``chat.completion.chunk`` events."""
        return OpenAIAssembler(self.provider, model)

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Embed the inputs in batches of ``embedding_batch`` (a few batches at once).

        Cancellation: cancels every batch in flight. Failure: the first batch's
        ``ProviderError`` (after its retries) cancels the others and is raised.
        """
        model = request.model or self.config.embedding_model
        if not model:
            raise BadRequestError(
                "model: no embedding model in the request or the config", provider=self.provider
            )
        size = self.config.embedding_batch
        batches = [request.inputs[i : i + size] for i in range(0, len(request.inputs), size)]
        results: list[_EmbedReply | None] = [None] * len(batches)
        limiter = trio.CapacityLimiter(_EMBED_CONCURRENCY)
        with self.telemetry.operation("embeddings", model) as record:

            async def run(index: int) -> None:
                async with limiter:
                    results[index] = await self._embed_batch(batches[index], model, request)

            async with trio.open_nursery() as nursery:
                for index in range(len(batches)):
                    nursery.start_soon(run, index)
            vectors: list[list[float]] = []
            tokens = 0
            for reply in results:
                assert reply is not None
                vectors.extend(_vector(item.embedding, self.provider) for item in reply.data)
                tokens += reply.usage.prompt_tokens if reply.usage else 0
            usage = Usage(input_tokens=tokens)
            answered = results[0].model if results[0] and results[0].model else model
            record.response(answered, None, [], usage)
        return EmbeddingResult(vectors=vectors, model=answered, provider=self.provider, usage=usage)

    async def _embed_batch(
        self, inputs: list[str], model: str, request: EmbedRequest
    ) -> _EmbedReply:
        body: dict[str, Any] = {
            "model": model,
            "input": inputs,
            "encoding_format": self.config.embedding_encoding,
        }
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        payload = _encoder.encode(body)

        async def attempt() -> _EmbedReply:
            raw = await self.transport.post(self.embeddings_url, payload, self.headers())
            try:
                reply = _embed_reply.decode(raw)
            except msgspec.DecodeError as exc:
                raise ProtocolError(
                    f"malformed embeddings: {exc}", provider=self.provider
                ) from None
            if len(reply.data) != len(inputs):
                raise ProtocolError(
                    f"{len(reply.data)} embeddings for {len(inputs)} inputs", provider=self.provider
                )
            reply.data.sort(key=lambda item: item.index)
            return reply

        return await self.within_total(lambda: retry_call(self.retry, attempt))

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._http.aclose()
