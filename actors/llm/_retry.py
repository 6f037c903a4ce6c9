"""Retries with the official OpenAI and Anthropic SDKs' rules.

- Retry connection errors, timeouts, 408, 409, 429 and every status >= 500 (529 included);
  ``x-should-retry: true|false`` overrides the status rule.
- Wait ``retry-after-ms`` (milliseconds) first, else ``retry-after`` (seconds, fractional
  allowed, or an HTTP date), when that wait is in ``(0, max_retry_after]``; a longer
  server-directed wait is not retried at all. Otherwise back off exponentially from
  ``initial_delay`` doubling to ``max_delay``, times a jitter in ``(0.75, 1]``.
- Give up after ``max_retries`` retries, or when the next wait would take the total wait
  past ``max_total_wait``; the last error is raised.
- Never retry once content reached the caller (streams pass ``delivered``).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import msgspec
import trio

from actors.llm._errors import ProviderError

__all__ = ["RetryPolicy", "parse_retry_after", "retry_call", "status_is_retryable"]

T = TypeVar("T")


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How often and how long to retry a failed call (defaults are the SDKs')."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    max_total_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("retry.max_retries: must be >= 0")
        if self.initial_delay < 0 or self.max_delay < self.initial_delay:
            raise ValueError("retry.max_delay: must be >= initial_delay >= 0")

    def backoff(self, retries_taken: int, rand: float) -> float:
        """The exponential wait before retry number ``retries_taken + 1``; ``rand`` in [0, 1)."""
        base = min(self.initial_delay * 2.0 ** min(retries_taken, 64), self.max_delay)
        return base * (1.0 - 0.25 * rand)


def status_is_retryable(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an HTTP error status may be retried (``x-should-retry`` wins)."""
    should = headers.get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    return status in (408, 409, 429) or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked to wait, from ``retry-after-ms`` then ``retry-after``.

    ``now`` (epoch seconds) is used for the HTTP-date form. None when absent or unparsable.
    """
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if math.isfinite(seconds):
            return seconds
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError):
        return None
    return float(when - (time.time() if now is None else now))


def _next_wait(policy: RetryPolicy, exc: ProviderError, retries_taken: int) -> float | None:
    """The wait before the next try, or None when ``exc`` must be raised."""
    if not exc.retryable or retries_taken >= policy.max_retries:
        return None
    after = exc.retry_after
    if after is not None and after > policy.max_retry_after:
        return None
    if after is not None and after > 0:
        return after
    return policy.backoff(retries_taken, random.random())


async def retry_call(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[T]],
    *,
    delivered: Callable[[], bool] = lambda: False,
) -> T:
    """Run ``attempt`` until it returns, retrying retryable ``ProviderError`` per ``policy``.

    ``delivered()`` returning True (content already reached the caller) stops retrying.
    Cancellation: cancels the running attempt or the wait; nothing is retried after it.
    Failure: the last ``ProviderError`` is raised unchanged; other exceptions pass through.
    """
    waited = 0.0
    retries_taken = 0
    while True:
        try:
            return await attempt()
        except ProviderError as exc:
            wait = None if delivered() else _next_wait(policy, exc, retries_taken)
            if wait is None or waited + wait > policy.max_total_wait:
                raise
        await trio.sleep(wait)
        waited += wait
        retries_taken += 1
