"""Steps: ``step()`` builds one from a function; ``StepContext`` is what the function sees.

```python
class Value(msgspec.Struct):
    value: int

async def add_one(ctx: StepContext[Value]) -> Value:
    return Value(ctx.input_data.value + 1)

add = step("add-one", Value, Value, add_one, retries=2)
```

A step's function may also call ``await ctx.suspend(payload)`` (the run stops here until
``resume`` brings ``ctx.resume_data``) or ``ctx.bail(result)`` (the run ends with ``result``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, overload

from actors.workflow._schema import check, validate

if TYPE_CHECKING:
    from actors.tools import ToolRef
    from runtime import ActorRef, Mastra

__all__ = ["Step", "StepBailed", "StepContext", "StepSuspended", "step"]

In = TypeVar("In")
Execute = Callable[["StepContext[Any]"], Awaitable[Any] | Any]


@dataclass(frozen=True, eq=False)
class Step:
    """One unit of work with typed input and output, run by a step actor.

    ``retries`` extra attempts follow a failure, ``retry_delay * 2**n`` seconds apart.
    """

    id: str
    input_schema: Any
    output_schema: Any
    execute: Execute
    resume_schema: Any = None
    suspend_schema: Any = None
    retries: int = 0
    retry_delay: float = 0.05
    description: str = ""

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValueError(f"step id must be a non-empty string, got {self.id!r}")
        if self.retries < 0 or self.retry_delay < 0:
            raise ValueError(f"step {self.id!r}: retries and retry_delay must be >= 0")

    @property
    def can_suspend(self) -> bool:
        """True when the step declares a resume or suspend schema."""
        return self.resume_schema is not None or self.suspend_schema is not None

    async def invoke(self, ctx: StepContext[Any]) -> Any:
        """Call the step's function with ``ctx``; sync functions run inline (keep them quick)."""
        result = self.execute(ctx)
        if inspect.isawaitable(result):
            return await result
        return result


@overload
def step(
    id: str,
    input_schema: Any,
    output_schema: Any,
    execute: Execute,
    *,
    resume_schema: Any = None,
    suspend_schema: Any = None,
    retries: int = 0,
    retry_delay: float = 0.05,
    description: str = "",
) -> Step: ...
@overload
def step(
    id: str,
    input_schema: Any,
    output_schema: Any,
    execute: None = None,
    *,
    resume_schema: Any = None,
    suspend_schema: Any = None,
    retries: int = 0,
    retry_delay: float = 0.05,
    description: str = "",
) -> Callable[[Execute], Step]: ...
def step(
    id: str,
    input_schema: Any,
    output_schema: Any,
    execute: Execute | None = None,
    *,
    resume_schema: Any = None,
    suspend_schema: Any = None,
    retries: int = 0,
    retry_delay: float = 0.05,
    description: str = "",
) -> Step | Callable[[Execute], Step]:
    """Build a ``Step``; without ``execute`` it returns a decorator for the function.

    The description defaults to the function's docstring.
    """

    def build(fn: Execute) -> Step:
        return Step(
            id=id,
            input_schema=input_schema,
            output_schema=output_schema,
            execute=fn,
            resume_schema=resume_schema,
            suspend_schema=suspend_schema,
            retries=retries,
            retry_delay=retry_delay,
            description=description or inspect.getdoc(fn) or "",
        )

    return build if execute is None else build(execute)


class StepSuspended(Exception):
    """Raised by ``StepContext.suspend``: the step stops and the run suspends."""

    def __init__(self, payload: Any) -> None:
        super().__init__("step suspended")
        self.payload = payload


class StepBailed(Exception):
    """Raised by ``StepContext.bail``: the run ends now with ``result``."""

    def __init__(self, result: Any) -> None:
        super().__init__("step bailed")
        self.result = result


class StepContext(Generic[In]):
    """What a step's function sees: its input, earlier results, suspend/bail, the runtime."""

    __slots__ = (
        "_init",
        "_init_schema",
        "_lookup",
        "_results",
        "_runtime",
        "_step",
        "input_data",
        "resume_data",
        "retry_count",
        "run_id",
        "workflow_id",
    )

    def __init__(
        self,
        step: Step,
        *,
        input_data: In,
        run_id: str,
        workflow_id: str,
        retry_count: int,
        resume_data: Any,
        init: Any,
        init_schema: Any,
        results: dict[str, Any],
        runtime: Mastra | None,
    ) -> None:
        self._step = step
        self.input_data = input_data
        self.resume_data = resume_data
        self.run_id = run_id
        self.workflow_id = workflow_id
        self.retry_count = retry_count
        self._init = init
        self._init_schema = init_schema
        self._results = results
        self._runtime = runtime

    @property
    def step_id(self) -> str:
        """The id of the running step."""
        return self._step.id

    def get_init_data(self) -> Any:
        """The run's input, converted into the workflow's input schema."""
        return validate(self._init, self._init_schema, step=None, role="input")

    def get_step_result(self, step: Step | str) -> Any:
        """The output of an earlier step of this run (typed when given the ``Step``).

        Raises ``KeyError`` naming the step when it has not completed in this run.
        """
        key = step if isinstance(step, str) else step.id
        if key not in self._results:
            raise KeyError(f"step {key!r} has no result in run {self.run_id!r}")
        value = self._results[key]
        if isinstance(step, str):
            return value
        return validate(value, step.output_schema, step=key, role="output")

    async def suspend(self, payload: Any = None) -> NoReturn:
        """Stop this step; the run becomes ``suspended`` until resumed with resume data.

        The payload is validated against the step's ``suspend_schema`` (when given).
        """
        schema = self._step.suspend_schema
        plain = check(
            payload, Any if schema is None else schema, step=self.step_id, role="suspend payload"
        )
        raise StepSuspended(plain)

    def bail(self, result: Any = None) -> NoReturn:
        """End the whole run now with status ``bailed`` and ``result``; later steps do not run."""
        raise StepBailed(check(result, Any, step=self.step_id, role="bail result"))

    @property
    def runtime(self) -> Mastra:
        """The runtime, for any actor lookup a step needs."""
        if self._runtime is None:
            raise RuntimeError(f"step {self.step_id!r} runs outside a runtime")
        return self._runtime

    def lookup(self, name: str, *, kind: str | None = None) -> ActorRef:
        """A live actor's ref; raises ``LookupError`` naming it when it is not running."""
        ref = self.runtime.lookup(name, kind=kind)
        if ref is None:
            raise LookupError(f"no {kind or 'actor'} named {name!r} is running")
        return ref

    def agent(self, name: str) -> ActorRef:
        """The ref of the agent actor ``name`` (registry kind ``agent``)."""
        return self.lookup(name, kind="agent")

    def tool(self, name: str) -> ToolRef:
        """A ``ToolRef`` to the tool actor ``name`` (registry kind ``tool``)."""
        from actors.tools import ToolRef

        return ToolRef(self.lookup(name, kind="tool"))
