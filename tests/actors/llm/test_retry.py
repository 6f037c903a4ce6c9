"""The retry policy: the official SDKs' rules for what to retry and how long to wait."""

from __future__ import annotations

import email.utils

import pytest
import trio
import trio.testing

from actors.llm import (
    BadRequestError,
    ProviderError,
    RateLimitedError,
    RetryPolicy,
    UnavailableError,
)
from actors.llm._retry import parse_retry_after, retry_call, status_is_retryable


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (529, {}, True),
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (400, {"x-should-retry": "true"}, True),
        (503, {"x-should-retry": "false"}, False),
    ],
)
def test_status_rules(status: int, headers: dict[str, str], expected: bool) -> None:
    assert status_is_retryable(status, headers) is expected


def test_retry_after_headers() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "whenever"}) is None
    assert parse_retry_after({}) is None


def test_backoff_doubles_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy()
    assert [policy.backoff(n, 0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.backoff(0, 0.999) == pytest.approx(0.5 * 0.75, rel=1e-2)


def test_invalid_policy_names_the_field() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


class Flaky:
    """Fails with the given errors in turn, then answers ``"ok"``; records call times."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.times: list[float] = []

    async def __call__(self) -> str:
        self.times.append(trio.current_time())
        await trio.lowlevel.checkpoint()
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_retries_with_exponential_backoff(autojump_clock: trio.testing.MockClock) -> None:
    flaky = Flaky(UnavailableError("down"), UnavailableError("down"))
    assert await retry_call(RetryPolicy(), flaky) == "ok"
    waits = [b - a for a, b in zip(flaky.times, flaky.times[1:], strict=False)]
    assert 0.375 <= waits[0] <= 0.5
    assert 0.75 <= waits[1] <= 1.0


async def test_retry_after_is_honoured(autojump_clock: trio.testing.MockClock) -> None:
    flaky = Flaky(RateLimitedError("slow down", status=429, retry_after=3.0))
    assert await retry_call(RetryPolicy(), flaky) == "ok"
    assert flaky.times[1] - flaky.times[0] == pytest.approx(3.0)


async def test_too_long_retry_after_is_not_retried(autojump_clock: trio.testing.MockClock) -> None:
    flaky = Flaky(RateLimitedError("come back tomorrow", status=429, retry_after=3600.0))
    with pytest.raises(RateLimitedError):
        await retry_call(RetryPolicy(), flaky)
    assert len(flaky.times) == 1


async def test_gives_up_after_max_retries(autojump_clock: trio.testing.MockClock) -> None:
    flaky = Flaky(*(UnavailableError(f"down {n}") for n in range(5)))
    with pytest.raises(UnavailableError, match="down 2"):
        await retry_call(RetryPolicy(max_retries=2), flaky)
    assert len(flaky.times) == 3


async def test_gives_up_past_the_total_wait(autojump_clock: trio.testing.MockClock) -> None:
    flaky = Flaky(*(RateLimitedError("busy", retry_after=4.0) for _ in range(5)))
    with pytest.raises(RateLimitedError):
        await retry_call(RetryPolicy(max_retries=10, max_total_wait=10.0), flaky)
    assert len(flaky.times) == 3  # waits 4 + 4; a third wait would pass 10 s


async def test_non_retryable_errors_are_raised_at_once() -> None:
    flaky = Flaky(BadRequestError("bad"))
    with pytest.raises(BadRequestError):
        await retry_call(RetryPolicy(), flaky)
    assert len(flaky.times) == 1


async def test_no_retry_after_content_was_delivered() -> None:
    flaky = Flaky(UnavailableError("cut"))
    with pytest.raises(UnavailableError):
        await retry_call(RetryPolicy(), flaky, delivered=lambda: True)
    assert len(flaky.times) == 1
