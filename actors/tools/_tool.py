"""``Tool``: a declarative tool spec built from a plain function, sync or async."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints, overload

import msgspec
import trio

from actors.tools._schema import (
    FieldError,
    describe_function,
    field_errors,
    input_struct,
    json_schema,
)
from actors.tools.messages import ToolError, ToolInfo, ToolResult

__all__ = ["Tool", "ToolContext", "tool"]


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Passed to a tool function that declares a parameter of this type."""

    tool_id: str
    call_id: str | None
    request_context: dict[str, Any]


def _is_context(hint: Any) -> bool:
    return hint is ToolContext


@dataclass(frozen=True, eq=False)
class Tool:
    """A tool: id, description, input/output schemas and the function that runs it.

    Build one with ``@tool``. ``await rt.spawn(my_tool)`` starts its actor (kind ``tool``)
    and returns a ``ToolRef``; ``await my_tool.call(args)`` runs it in the current task.
    """

    id: str
    description: str
    fn: Callable[..., Any]
    input_type: type[msgspec.Struct]
    output_type: Any
    timeout: float | None = 30.0
    concurrency: int = 8
    require_approval: bool = False
    blocking: bool = True
    struct_input: bool = False
    context_param: str | None = None
    input_schema: dict[str, Any] = field(init=False)
    output_schema: dict[str, Any] | None = field(init=False)
    is_async: bool = field(init=False, repr=False)
    """Whether ``fn`` is a coroutine function."""
    inline: bool = field(init=False, repr=False)
    """Whether a caller may run this tool in its own task instead of through its actor: a
    sync function declared ``blocking=False`` never yields to Trio, so its actor's
    concurrency limit and any timeout cannot act on a call anyway."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.fn))
        object.__setattr__(self, "inline", not self.blocking and not self.is_async)
        object.__setattr__(self, "input_schema", json_schema(self.input_type))
        output = (
            None if self.output_type in (None, Any, inspect.Signature.empty) else self.output_type
        )
        object.__setattr__(self, "output_schema", None if output is None else json_schema(output))

    @property
    def info(self) -> ToolInfo:
        """The description a model and the HTTP API get."""
        return ToolInfo(
            id=self.id,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            require_approval=self.require_approval,
        )

    async def spawn_in(self, spawner: Any) -> Any:
        """Spawn this tool's actor under ``spawner``; returns a ``ToolRef``."""
        from actors.tools._actor import ToolActor, ToolRef

        ref = await spawner.spawn(
            ToolActor, self, name=self.id, kind="tool", concurrency=self.concurrency
        )
        return ToolRef(ref)

    def _failure(self, call_id: str | None, error: ToolError) -> ToolResult:
        return ToolResult(tool_id=self.id, call_id=call_id, ok=False, error=error)

    def validate(self, args: Any) -> msgspec.Struct | list[FieldError]:
        """The decoded input, or the list of ``FieldError`` describing every bad field."""
        try:
            return msgspec.convert(args, self.input_type, strict=True)
        except msgspec.ValidationError as exc:
            errors = field_errors(self.input_type, args, self.input_schema)
            return errors or [FieldError(field="", message=f"Invalid input: {exc}")]

    def _validation_failure(
        self, call_id: str | None, args: Any, errors: list[FieldError]
    ) -> ToolResult:
        lines = "\n".join(f"- {e.field or 'input'}: {e.message}" for e in errors)
        provided = msgspec.json.format(msgspec.json.encode(args), indent=2).decode()
        message = (
            f"Tool input validation failed for {self.id}. Please fix the following errors and "
            f"try again:\n{lines}\n\nProvided arguments: {provided}"
        )
        return self._failure(
            call_id, ToolError(kind="validation", message=message, validation_errors=errors)
        )

    async def call(
        self,
        args: Any,
        *,
        call_id: str | None = None,
        request_context: dict[str, Any] | None = None,
        limiter: trio.CapacityLimiter | None = None,
    ) -> ToolResult:
        """Validate ``args``, run the function, validate its output; never raises for a bad
        call: invalid input, an exception in the tool and a timeout become error results.

        Cancellation propagates (an abandoned sync function finishes in its thread). An
        ``inline`` tool never yields, so neither cancellation nor its timeout can stop it.
        """
        decoded = self.validate(args)
        if isinstance(decoded, list):
            return self._validation_failure(call_id, args, decoded)
        fn_args, kwargs = self._arguments(decoded, call_id, request_context)
        try:
            if self.inline:  # no checkpoint inside, so no timeout scope could ever fire
                value = self.fn(*fn_args, **kwargs)
            else:
                with trio.move_on_after(
                    self.timeout if self.timeout is not None else float("inf")
                ) as scope:
                    value = await self._run(fn_args, kwargs, limiter)
                if scope.cancelled_caught:
                    message = f"Tool {self.id} timed out after {self.timeout}s"
                    return self._failure(call_id, ToolError(kind="timeout", message=message))
            return ToolResult(tool_id=self.id, call_id=call_id, value=self._output(value))
        except Exception as exc:
            message = f"Tool {self.id} failed: {type(exc).__name__}: {exc}"
            return self._failure(call_id, ToolError(kind="execution", message=message))

    def _arguments(
        self, decoded: msgspec.Struct, call_id: str | None, request_context: dict[str, Any] | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if self.struct_input:
            args: tuple[Any, ...] = (decoded,)
            kwargs: dict[str, Any] = {}
        else:
            args = ()
            kwargs = {name: getattr(decoded, name) for name in decoded.__struct_fields__}
        if self.context_param is not None:
            kwargs[self.context_param] = ToolContext(
                tool_id=self.id, call_id=call_id, request_context=request_context or {}
            )
        return args, kwargs

    async def _run(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], limiter: trio.CapacityLimiter | None
    ) -> Any:
        if self.is_async:
            return await self.fn(*args, **kwargs)
        call = functools.partial(self.fn, *args, **kwargs)
        return await trio.to_thread.run_sync(call, limiter=limiter, abandon_on_cancel=True)

    def _output(self, value: Any) -> Any:
        builtins = msgspec.to_builtins(value)
        if self.output_schema is not None:
            msgspec.convert(builtins, self.output_type, strict=False)  # raises on a bad result
        return builtins


def _context_param(fn: Callable[..., Any]) -> str | None:
    hints = get_type_hints(fn)
    return next((name for name, hint in hints.items() if _is_context(hint)), None)


def _build(
    fn: Callable[..., Any],
    *,
    id: str | None,
    description: str | None,
    input: type[msgspec.Struct] | None,
    output: Any,
    timeout: float | None,
    concurrency: int,
    require_approval: bool,
    blocking: bool,
) -> Tool:
    name = id or fn.__name__
    summary, _ = describe_function(fn)
    hints = get_type_hints(fn)
    return Tool(
        id=name,
        description=description or summary or name,
        fn=fn,
        input_type=input or input_struct(name, fn, _is_context),
        output_type=output if output is not None else hints.get("return"),
        timeout=timeout,
        concurrency=concurrency,
        require_approval=require_approval,
        blocking=blocking,
        struct_input=input is not None,
        context_param=_context_param(fn),
    )


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    id: str | None = None,
    description: str | None = None,
    input: type[msgspec.Struct] | None = None,
    output: Any = None,
    timeout: float | None = 30.0,
    concurrency: int = 8,
    require_approval: bool = False,
    blocking: bool = True,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    id: str | None = None,
    description: str | None = None,
    input: type[msgspec.Struct] | None = None,
    output: Any = None,
    timeout: float | None = 30.0,
    concurrency: int = 8,
    require_approval: bool = False,
    blocking: bool = True,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Declare a tool from a function: ``@tool`` or ``@tool(id=..., timeout=...)``.

    The input schema comes from the parameters' type hints (descriptions from the
    docstring's ``Args:`` section), the description from the docstring's first paragraph.
    With ``input=SomeStruct`` the function takes that Struct instead. A parameter typed
    ``ToolContext`` receives the call's context and is not part of the schema. Sync
    functions run in worker threads, unless declared ``blocking=False``: then they run on
    the caller's Trio thread, which saves a thread hop (~100 us) per call but is only right
    for quick, pure computations (no I/O, no locks); ``timeout`` cannot interrupt them.
    An agent runs such a tool in its own task, without a message to the tool's actor.
    """

    def build(f: Callable[..., Any]) -> Tool:
        return _build(
            f,
            id=id,
            description=description,
            input=input,
            output=output,
            timeout=timeout,
            concurrency=concurrency,
            require_approval=require_approval,
            blocking=blocking,
        )

    return build if fn is None else build(fn)
