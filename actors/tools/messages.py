"""Messages understood by tool actors, and the results they answer with."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from actors.tools._schema import FieldError

__all__ = ["DescribeTool", "ExecuteTool", "FieldError", "ToolError", "ToolInfo", "ToolResult"]


class ExecuteTool(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Run the tool with ``args`` as a model (or an HTTP client) provided them, unvalidated."""

    args: Any
    call_id: str | None = None
    request_context: dict[str, Any] = {}


class DescribeTool(msgspec.Struct, frozen=True, tag=True):
    """Ask a tool actor for its ``ToolInfo``."""


class ToolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a model and the HTTP API see of a tool."""

    id: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    require_approval: bool = False


ToolErrorKind = Literal["validation", "execution", "timeout", "unavailable"]


class ToolError(msgspec.Struct, frozen=True, kw_only=True):
    """Why a tool call failed, worded for a model to read and correct its next call."""

    kind: ToolErrorKind
    message: str
    validation_errors: list[FieldError] = []


class ToolResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one call: ``value`` when ``ok``, else ``error``."""

    tool_id: str
    call_id: str | None = None
    ok: bool = True
    value: Any = None
    error: ToolError | None = None
