"""Tool actors for an MCP server's tools: the server's schemas as they are, arguments
checked against the input schema before the call, calls forwarded to the session actor."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from jsonschema import validators
from jsonschema.exceptions import ValidationError as SchemaError

from actors.mcp.messages import CallMcpTool, McpToolInfo
from actors.tools import DescribeTool, ExecuteTool, FieldError, ToolError, ToolInfo, ToolResult
from runtime import Actor, ActorCrashed, ActorRef, ActorStopped, UnhandledMessage

__all__ = ["McpToolActor", "argument_errors"]


def _field(error: SchemaError) -> list[str]:
    """The argument(s) an error is about: the missing names of a ``required`` error, else
    the path of the bad value (empty for the arguments as a whole)."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        return [f"{path}.{n}" if path else str(n) for n in missing] or [path]
    return [path]


def argument_errors(validator: Any, args: Any) -> list[FieldError]:
    """Every way ``args`` breaks the tool's input schema, each naming its argument."""
    errors: list[FieldError] = []
    for error in sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path)):
        message = "Required" if error.validator == "required" else error.message
        errors += [FieldError(field=name, message=message) for name in _field(error)]
    return errors


class McpToolActor(Actor):
    """One tool of an MCP server (kind ``tool``, id ``<client>_<tool>``).

    Arguments that break the input schema get a ``validation`` error naming each bad
    argument, without a round trip; a valid call goes to the session actor, whose crash or
    stop becomes an ``unavailable`` error result.
    """

    concurrency: ClassVar[int] = 64

    def __init__(self, tool_id: str, tool: McpToolInfo, session: ActorRef) -> None:
        self.info = ToolInfo(
            id=tool_id,
            description=tool.description,
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
        )
        self.tool = tool
        self.session = session
        schema = tool.input_schema or {"type": "object"}
        self.validator = validators.validator_for(schema)(schema)

    async def receive(self, msg: ExecuteTool | DescribeTool) -> ToolResult | ToolInfo:
        match msg:
            case ExecuteTool(args=args, call_id=call_id):
                return await self._execute(args, call_id)
            case DescribeTool():
                return self.info
        raise UnhandledMessage(f"tool {self.info.id!r} does not handle {type(msg).__name__}")

    def _failure(self, call_id: str | None, error: ToolError) -> ToolResult:
        return ToolResult(tool_id=self.info.id, call_id=call_id, ok=False, error=error)

    async def _execute(self, args: Any, call_id: str | None) -> ToolResult:
        args = {} if args is None else args
        errors = argument_errors(self.validator, args)
        if not isinstance(args, dict) and not errors:
            errors = [FieldError(field="", message="Invalid input: expected object")]
        if errors:
            return self._failure(call_id, self._invalid(args, errors))
        msg = CallMcpTool(tool_id=self.info.id, name=self.tool.name, args=args, call_id=call_id)
        try:
            result: ToolResult = await self.session.ask(msg)
        except (ActorCrashed, ActorStopped) as exc:
            message = f"Tool {self.info.id} is unavailable: {exc}"
            return self._failure(call_id, ToolError(kind="unavailable", message=message))
        return result

    def _invalid(self, args: Any, errors: list[FieldError]) -> ToolError:
        lines = "\n".join(f"- {e.field or 'input'}: {e.message}" for e in errors)
        provided = msgspec.json.format(msgspec.json.encode(args), indent=2).decode()
        message = (
            f"Tool input validation failed for {self.info.id}. Please fix the following errors "
            f"and try again:\n{lines}\n\nProvided arguments: {provided}"
        )
        return ToolError(kind="validation", message=message, validation_errors=errors)
