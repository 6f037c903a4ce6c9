"""Model providers as actors: OpenAI-compatible vendors, Anthropic, the offline scripted
model and hash embedder, retries, fallback lists and GenAI telemetry.

Each configured provider is a ``ProviderActor`` (kind ``"provider"``) that answers
``ChatRequest`` (ask -> ``ChatResult``; stream -> ``StreamChunk`` values) and
``EmbedRequest`` (ask -> ``EmbeddingResult``); the message types live in
``actors.llm.messages``. Failures are the typed errors of ``actors.llm._errors`` (one flat tree
under ``ProviderError``). ``ModelRouter`` / ``FallbackProvider`` try a model list in order.
"""

from actors.llm._actor import (
    ProviderActor,
    build_client,
    collect_stream,
    configured_provider,
    spawn_provider,
)
from actors.llm._client import Emit, HttpChatClient, ModelClient, StreamAssembler
from actors.llm._config import (
    PROVIDER_CONCURRENCY,
    VENDORS,
    AnthropicConfig,
    FallbackConfig,
    HashEmbedConfig,
    OpenAICompatConfig,
    ProviderConfig,
    ScriptedConfig,
    ScriptedToolCall,
    ScriptedTurn,
    ScriptRule,
    Timeouts,
)
from actors.llm._errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    PermissionDeniedError,
    ProtocolError,
    ProviderError,
    ProviderTimeout,
    RateLimitedError,
    StreamInterrupted,
    UnavailableError,
    error_for_kind,
)
from actors.llm._retry import RetryPolicy
from actors.llm._sse import ServerSentEvent, SSEDecoder
from actors.llm._telemetry import GenAITelemetry
from actors.llm.anthropic import AnthropicClient
from actors.llm.fallback import FallbackProvider, ModelRouter, ModelTarget, parse_model
from actors.llm.hashembed import HashEmbedder, hash_embed
from actors.llm.openai_compat import OpenAICompatClient
from actors.llm.scripted import ECHO_RULES, ScriptedModel

__all__ = [
    "ECHO_RULES",
    "PROVIDER_CONCURRENCY",
    "VENDORS",
    "AnthropicClient",
    "AnthropicConfig",
    "AuthenticationError",
    "BadRequestError",
    "ContentFilteredError",
    "ContextLengthError",
    "Emit",
    "FallbackConfig",
    "FallbackProvider",
    "GenAITelemetry",
    "HashEmbedConfig",
    "HashEmbedder",
    "HttpChatClient",
    "ModelClient",
    "ModelRouter",
    "ModelTarget",
    "OpenAICompatClient",
    "OpenAICompatConfig",
    "PermissionDeniedError",
    "ProtocolError",
    "ProviderActor",
    "ProviderConfig",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitedError",
    "RetryPolicy",
    "SSEDecoder",
    "ScriptRule",
    "ScriptedConfig",
    "ScriptedModel",
    "ScriptedToolCall",
    "ScriptedTurn",
    "ServerSentEvent",
    "StreamAssembler",
    "StreamInterrupted",
    "Timeouts",
    "UnavailableError",
    "build_client",
    "configured_provider",
    "collect_stream",
    "error_for_kind",
    "hash_embed",
    "parse_model",
    "spawn_provider",
]
