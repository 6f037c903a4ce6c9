"""OpenTelemetry GenAI spans and metrics for model calls (semantic conventions v1.41).

One ``chat {model}`` / ``embeddings {model}`` span of kind CLIENT per call, with the
``gen_ai.*`` request and response attributes, ``error.type`` on failure, and the
``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage`` histograms.
Message contents are recorded only when ``record_content`` is on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
from opentelemetry import trace
from opentelemetry.metrics import Meter, NoOpMeter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from actors.llm.messages import ChatMessage, ChatResult, Usage

__all__ = ["GenAITelemetry", "Operation", "OperationRecord"]

Operation = Literal["chat", "embeddings"]

_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48)
_TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)


class OperationRecord:
    """What a running call reports to its span and metrics."""

    __slots__ = ("attributes", "span", "usage")

    def __init__(self, span: trace.Span, attributes: dict[str, Any]) -> None:
        self.span = span
        self.attributes = attributes
        self.usage: Usage | None = None

    def chat_result(self, result: ChatResult) -> None:
        """Record the response model, id, finish reason and usage of a chat answer."""
        self.response(result.model, result.response_id, [result.finish_reason], result.usage)

    def response(
        self,
        model: str,
        response_id: str | None,
        finish_reasons: Sequence[str],
        usage: Usage | None,
    ) -> None:
        """Record the response attributes (any may be empty)."""
        span = self.span
        if model:
            span.set_attribute("gen_ai.response.model", model)
            self.attributes["gen_ai.response.model"] = model
        if response_id:
            span.set_attribute("gen_ai.response.id", response_id)
        if finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", list(finish_reasons))
        if usage is not None:
            self.usage = usage
            span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)


class GenAITelemetry:
    """Spans and metrics for one provider; tracer and meter come from the runtime or a test."""

    def __init__(
        self,
        provider: str,
        *,
        tracer: Tracer | None = None,
        meter: Meter | None = None,
        record_content: bool = False,
        base_url: str | None = None,
    ) -> None:
        self.provider = provider
        self.tracer = tracer if tracer is not None else trace.NoOpTracer()
        meter = meter if meter is not None else NoOpMeter("actors.llm")
        # Telemetry off: skip building attributes, spans and measurements on every call.
        self._silent = isinstance(self.tracer, trace.NoOpTracer) and isinstance(meter, NoOpMeter)
        self.record_content = record_content
        self._server: dict[str, Any] = {}
        if base_url:
            parts = urlsplit(base_url)
            if parts.hostname:
                self._server["server.address"] = parts.hostname
            if parts.port:
                self._server["server.port"] = parts.port
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Measures number of input and output tokens used",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )

    @contextmanager
    def operation(
        self,
        operation: Operation,
        model: str,
        *,
        messages: Sequence[ChatMessage] | None = None,
    ) -> Iterator[OperationRecord]:
        """A span around one call; the body reports the response through the record.

        On an exception (cancellation included) the span gets ``error.type`` and an error
        status, the duration metric is still recorded, and the exception propagates.
        """
        if self._silent:
            yield OperationRecord(trace.INVALID_SPAN, {})
            return
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": model,
            **self._server,
        }
        start = time.perf_counter()
        with self.tracer.start_as_current_span(
            f"{operation} {model}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if self.record_content and messages is not None:
                span.set_attribute("gen_ai.input.messages", _json(list(messages)))
            record = OperationRecord(span, dict(attributes))
            try:
                yield record
            except BaseException as exc:
                error_type = type(exc).__qualname__
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
                record.attributes["error.type"] = error_type
                raise
            finally:
                self._measure(record, time.perf_counter() - start)

    def output(self, record: OperationRecord, result: ChatResult) -> None:
        """Record the answer's text and tool calls on the span when content recording is on."""
        if self.record_content:
            record.span.set_attribute(
                "gen_ai.output.messages",
                _json({"text": result.text, "tool_calls": result.tool_calls}),
            )

    def _measure(self, record: OperationRecord, seconds: float) -> None:
        attrs = {k: v for k, v in record.attributes.items() if not k.startswith("server.")}
        self._duration.record(seconds, attrs)
        if record.usage is not None:
            self._tokens.record(record.usage.input_tokens, {**attrs, "gen_ai.token.type": "input"})
            self._tokens.record(
                record.usage.output_tokens, {**attrs, "gen_ai.token.type": "output"}
            )


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()
