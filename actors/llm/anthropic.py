"""Anthropic's Messages API: chat, the ``message_start ... message_stop`` event stream,
tool use, image input. Anthropic offers no embeddings endpoint: ``embed`` fails with a
``BadRequestError`` that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import httpx

from actors.llm._anthropic_stream import AnthropicAssembler
from actors.llm._anthropic_wire import anthropic_error, decode_message, encode_messages
from actors.llm._client import HttpChatClient, StreamAssembler, api_key_from_env
from actors.llm._config import AnthropicConfig
from actors.llm._errors import BadRequestError
from actors.llm._http import HttpTransport
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import (
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    JsonSchemaFormat,
)

__all__ = ["AnthropicClient"]

PROVIDER = "anthropic"


def _structured_name(request: ChatRequest) -> str | None:
    fmt = request.response_format
    if fmt is None:
        return None
    return fmt.name if isinstance(fmt, JsonSchemaFormat) else "response"


class AnthropicClient(HttpChatClient):
    """The ``ModelClient`` of the Messages API over a shared ``httpx`` client."""

    def __init__(
        self,
        config: AnthropicConfig,
        http: httpx.AsyncClient,
        telemetry: GenAITelemetry | None = None,
    ) -> None:
        transport = HttpTransport(http, PROVIDER, partial(anthropic_error, PROVIDER))
        super().__init__(
            transport,
            retry=config.retry,
            timeouts=config.timeouts,
            telemetry=telemetry or GenAITelemetry(PROVIDER, base_url=config.url),
            default_model=config.model,
        )
        self.config = config
        self.chat_url = f"{config.url}/v1/messages"
        self._http = http

    def headers(self) -> Mapping[str, str]:
        """``x-api-key``, ``anthropic-version``, JSON content type and config headers."""
        headers = {
            "content-type": "application/json",
            "anthropic-version": self.config.version,
            **self.config.headers,
        }
        key = api_key_from_env(self.config.api_key_env, self.provider)
        if key is not None:
            headers["x-api-key"] = key
        return headers

    def encode(self, request: ChatRequest, model: str, *, stream: bool) -> bytes:
        """The Messages body (system on top, ``max_tokens`` filled in)."""
        return encode_messages(
            request, model, stream=stream, max_tokens=self.config.default_max_tokens
        )

    def decode(self, body: bytes, request: ChatRequest) -> ChatResult:
        """A non-streamed ``message`` (a structured-output tool's input becomes the text)."""
        return decode_message(body, self.provider, _structured_name(request))

    def assembler(self, model: str, request: ChatRequest) -> StreamAssembler:
        """An assembler for the Messages event stream."""
        return AnthropicAssembler(self.provider, model, _structured_name(request))

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Always fails: the Messages API has no embeddings (use another embedder)."""
        raise BadRequestError(
            "anthropic has no embeddings endpoint; configure an embedding provider",
            provider=self.provider,
        )

    async def aclose(self) -> None:
        """Close the pooled HTTP client."""
        await self._http.aclose()
