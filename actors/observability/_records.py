"""Finished OpenTelemetry spans as Mastra's span records (``SpanRecord`` of its storage).

A record is a plain dict in Mastra's JSON shape: ``traceId``, ``spanId``,
``parentSpanId``, ``name``, ``spanType``, ``entityType`` / ``entityId`` / ``entityName``,
``attributes``, ``startedAt`` / ``endedAt`` (ISO 8601), ``error`` and the rest. The span
type comes from the OTel GenAI attributes (``invoke_agent`` is an agent run,
``execute_tool`` a tool call, ``chat`` a model generation) and, for actor hops, from the
actor's kind and message.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

__all__ = ["ANCHOR_TYPES", "Record", "iso", "light", "span_record", "status_of"]

Record = dict[str, Any]

ANCHOR_TYPES = frozenset({"agent_run", "workflow_run", "tool_call", "model_generation"})
"""Span types that make a trace worth listing (a run of an agent, workflow, tool or model);
a trace of nothing else (a page polling ``GET /api/agents``) is not kept."""

_WORKFLOW_RUNS = ("StartRun", "ResumeRun", "StreamRun")
_LIGHT_FIELDS = (
    "traceId",
    "spanId",
    "parentSpanId",
    "name",
    "spanType",
    "isEvent",
    "startedAt",
    "endedAt",
    "error",
    "entityType",
    "entityId",
    "entityName",
    "createdAt",
    "updatedAt",
)


def iso(ns: int | None) -> str | None:
    """Nanoseconds since the epoch as ISO 8601 with milliseconds and ``Z`` (formatted by
    hand: every stored span needs two, and ``datetime`` costs several times more)."""
    if ns is None:
        return None
    seconds, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1_000_000:03d}Z"


_GENAI = {
    "invoke_agent": ("agent_run", "agent", "gen_ai.agent.name"),
    "execute_tool": ("tool_call", "tool", "gen_ai.tool.name"),
    "chat": ("model_generation", None, None),
    "embeddings": ("model_generation", None, None),
    "text_completion": ("model_generation", None, None),
}


def _classify(span: ReadableSpan, attrs: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """``(spanType, entityType, entityName)`` of a span."""
    genai = _GENAI.get(str(attrs.get("gen_ai.operation.name")))
    if genai is not None:
        span_type, entity_type, name_key = genai
        return span_type, entity_type, str(attrs.get(name_key, "")) if name_key else None
    kind, actor = attrs.get("actor.kind"), str(attrs.get("actor.name", ""))
    if kind == "workflow" and span.name.endswith(_WORKFLOW_RUNS):
        return "workflow_run", "workflow", actor
    if kind == "tool" and span.name.endswith(" Execute"):
        return "tool_call", "tool", actor
    if span.name.endswith(" RunStep"):
        return "workflow_step", None, None
    return "generic", None, None


def _error(span: ReadableSpan) -> dict[str, Any] | None:
    if span.status.status_code != StatusCode.ERROR:
        return None
    kind = str((span.attributes or {}).get("error.type", "ERROR"))
    return {"message": span.status.description or kind, "id": kind}


def span_record(span: ReadableSpan) -> Record | None:
    """The record of a finished span, or None for a span without a valid context."""
    ctx = span.get_span_context()
    if ctx is None or not ctx.is_valid:
        return None
    attrs = dict(span.attributes or {})
    span_type, entity_type, entity_name = _classify(span, attrs)
    parent = span.parent  # remote too: actor hops carry their parent in the envelope
    parent_id = None if parent is None else f"{parent.span_id:016x}"
    ended = iso(span.end_time)
    attrs["otel.kind"] = span.kind.name  # after classifying: a copy of the span's own
    record: Record = {
        "traceId": f"{ctx.trace_id:032x}",
        "spanId": f"{ctx.span_id:016x}",
        "parentSpanId": parent_id,
        "name": span.name,
        "spanType": span_type,
        "isEvent": False,
        "startedAt": iso(span.start_time),
        "endedAt": ended,
        "entityType": entity_type,
        "entityId": entity_name,
        "entityName": entity_name,
        "attributes": attrs,
        "metadata": None,
        "tags": None,
        "links": [],
        "input": None,
        "output": None,
        "error": _error(span),
        "requestContext": None,
        "createdAt": ended,
        "updatedAt": ended,
    }
    if span.kind == SpanKind.SERVER:
        record["attributes"]["http.server"] = True
    return record


def status_of(record: Record) -> str:
    """Mastra's trace status of a root record: ``error``, ``running`` or ``success``."""
    if record.get("error") is not None:
        return "error"
    return "running" if record.get("endedAt") is None else "success"


def light(record: Record) -> Record:
    """The fields a timeline needs (no attributes, input, output)."""
    return {key: record.get(key) for key in _LIGHT_FIELDS}
