"""Typed provider errors: one flat tree, documented here.

```
ProviderError                      every failure of a model or embedding call
├── AuthenticationError            401, or the API key variable is not set
├── PermissionDeniedError          403
├── BadRequestError                400/404/413/422 and unsupported operations; vendor message kept
├── ContextLengthError             the prompt does not fit the model's context window
├── ContentFilteredError           the vendor refused the content (policy filter)
├── RateLimitedError               429 (retried; raised once retries or wait budget run out)
├── UnavailableError               5xx, 529 overloaded, connection errors, mid-stream overload
├── ProviderTimeout                connect/read/total timeout (also a ``TimeoutError``)
├── ProtocolError                  a reply that is not the vendor's format (malformed JSON)
└── StreamInterrupted              a stream that ended before its terminal event
```

Each error carries ``provider`` (vendor name), ``status`` (HTTP status or None),
``retryable`` (whether the retry policy may try again), ``retry_after`` (seconds the server
asked to wait, or None) and ``kind`` (the ``ErrorKind`` string used in ``StreamError``).
"""

from __future__ import annotations

from typing import ClassVar

from actors.llm.messages import ErrorKind, StreamError

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ContentFilteredError",
    "ContextLengthError",
    "PermissionDeniedError",
    "ProtocolError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitedError",
    "StreamInterrupted",
    "UnavailableError",
    "error_for_kind",
]


class ProviderError(Exception):
    """Base of every provider failure (see the module docstring for the tree)."""

    kind: ClassVar[ErrorKind] = "unavailable"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{where}{self.message}{status}"

    def to_chunk(self, *, delivered: bool) -> StreamError:
        """The ``StreamError`` chunk that reports this error in a stream."""
        return StreamError(
            kind=self.kind,
            message=self.message,
            provider=self.provider,
            status=self.status,
            delivered=delivered,
        )


class AuthenticationError(ProviderError):
    """The vendor rejected the API key, or the key's environment variable is not set."""

    kind = "authentication"


class PermissionDeniedError(ProviderError):
    """The key may not use this model or endpoint."""

    kind = "permission"


class BadRequestError(ProviderError):
    """The vendor rejected the request; ``message`` is the vendor's own explanation."""

    kind = "bad_request"


class ContextLengthError(ProviderError):
    """The messages (plus ``max_tokens``) exceed the model's context window."""

    kind = "context_length"


class ContentFilteredError(ProviderError):
    """The vendor's content policy refused the request or the answer."""

    kind = "content_filtered"


class RateLimitedError(ProviderError):
    """Too many requests (429); ``retry_after`` says how long the vendor asked to wait."""

    kind = "rate_limited"
    default_retryable = True


class UnavailableError(ProviderError):
    """The vendor is down, overloaded (529) or unreachable."""

    kind = "unavailable"
    default_retryable = True


class ProviderTimeout(ProviderError, TimeoutError):
    """Connecting, reading or the whole call took longer than the configured timeout."""

    kind = "timeout"
    default_retryable = True


class ProtocolError(ProviderError):
    """The reply is not in the vendor's wire format (malformed JSON, unknown shape)."""

    kind = "protocol"


class StreamInterrupted(ProviderError):
    """The stream ended (connection closed) before the vendor's terminal event."""

    kind = "interrupted"
    default_retryable = True


_BY_KIND: dict[str, type[ProviderError]] = {
    cls.kind: cls
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        BadRequestError,
        ContextLengthError,
        ContentFilteredError,
        RateLimitedError,
        UnavailableError,
        ProviderTimeout,
        ProtocolError,
        StreamInterrupted,
    )
}


def error_for_kind(kind: ErrorKind, message: str, **fields: object) -> ProviderError:
    """Build the error class of ``kind`` (used to re-raise a ``StreamError`` chunk)."""
    cls = _BY_KIND[kind]
    return cls(message, **fields)  # type: ignore[arg-type]
