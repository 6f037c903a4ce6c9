"""Step execution: the step actor, and the inline runner for steps without retries.

A step with retries runs in its step actor: the run engine asks ``RunStep``; when the run is
cancelled meanwhile, ``call_step`` sends ``CancelSteps`` so the step's function is cancelled
promptly. A step that raises, or returns a value that fails its output schema, fails with
``StepFailed`` (an expected error: the actor keeps running); anything else that escapes
fails that execution only (its caller gets ``ActorCrashed`` and retries it) while the
actor's other executions go on. A step without retries runs through ``InlineStep`` in the
run's own task (``execute_step`` is shared by both).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any, Literal, assert_never

import msgspec
import trio
from opentelemetry.trace import Tracer

from actors.workflow._errors import SchemaViolation
from actors.workflow._schema import check, validate
from actors.workflow.step import Step, StepBailed, StepContext, StepSuspended
from runtime import Actor, ActorError, ActorRef, Mastra

log = logging.getLogger("actors.workflow")

__all__ = [
    "CancelSteps",
    "InlineStep",
    "RunStep",
    "StepActor",
    "StepFailed",
    "StepOutcome",
    "call_step",
    "execute_step",
]


class RunStep(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Run the step once: ``input`` and ``init`` are builtins, ``results`` the outputs of
    the run's finished steps (for ``get_step_result``)."""

    run_id: str
    workflow_id: str
    input: Any
    init: Any
    results: dict[str, Any]
    resume_data: Any = None
    retry_count: int = 0


class CancelSteps(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cancel every execution of the step for the run ``run_id`` (they fail as canceled)."""

    run_id: str


class StepOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How one execution ended: ``value`` is the output, suspend payload or bail result."""

    status: Literal["success", "suspended", "bailed"]
    value: Any = None


class StepFailed(Exception):
    """The step's function raised, or a value failed its schema (``retryable`` False then).

    ``retry_count`` is how many retries preceded this final failure.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_count = 0


class StepActor(Actor):
    """Runs one ``Step``; handles many runs' executions at once (``concurrency``)."""

    expected_errors = (StepFailed,)

    def __init__(self, step: Step, init_schema: Any) -> None:
        self.step = step
        self.init_schema = init_schema

    async def on_start(self) -> None:
        self.running: dict[str, set[trio.CancelScope]] = {}

    async def receive(self, msg: RunStep | CancelSteps) -> StepOutcome | None:
        match msg:
            case RunStep():
                return await self._guarded(msg)
            case CancelSteps(run_id=run_id):
                for scope in self.running.get(run_id, ()):
                    scope.cancel()
                return None
        assert_never(msg)

    async def _guarded(self, msg: RunStep) -> StepOutcome:
        scopes = self.running.setdefault(msg.run_id, set())
        with trio.CancelScope() as scope:
            scopes.add(scope)
            try:
                return await self.execute(msg)
            finally:
                scopes.discard(scope)
                if not scopes:
                    self.running.pop(msg.run_id, None)
        raise StepFailed("canceled", retryable=False)

    async def execute(self, msg: RunStep) -> StepOutcome:
        """Validate the input, call the function, validate the output."""
        return await execute_step(self.step, self.init_schema, self.ctx.runtime, msg)


async def execute_step(step: Step, init_schema: Any, runtime: Mastra, msg: RunStep) -> StepOutcome:
    """Run ``step`` once for ``msg``: validate the input (and resume data), call the
    function, validate the output.

    A function that raises, or a value that fails its schema, raises ``StepFailed``
    (not retryable for schema errors); cancellation propagates as ``trio.Cancelled``.
    """
    try:
        data = validate(msg.input, step.input_schema, step=step.id, role="input")
        resume = msg.resume_data
        if resume is not None and step.resume_schema is not None:
            resume = validate(resume, step.resume_schema, step=step.id, role="resume data")
    except SchemaViolation as exc:
        raise StepFailed(str(exc), retryable=False) from exc
    ctx: StepContext[Any] = StepContext(
        step,
        input_data=data,
        run_id=msg.run_id,
        workflow_id=msg.workflow_id,
        retry_count=msg.retry_count,
        resume_data=resume,
        init=msg.init,
        init_schema=init_schema,
        results=msg.results,
        runtime=runtime,
    )
    try:
        value = await step.invoke(ctx)
    except StepSuspended as exc:
        return StepOutcome(status="suspended", value=exc.payload)
    except StepBailed as exc:
        return StepOutcome(status="bailed", value=exc.result)
    except SchemaViolation as exc:
        raise StepFailed(str(exc), retryable=False) from exc
    except Exception as exc:
        raise StepFailed(f"{type(exc).__name__}: {exc}") from exc
    try:
        return StepOutcome(
            status="success",
            value=check(value, step.output_schema, step=step.id, role="output"),
        )
    except SchemaViolation as exc:
        raise StepFailed(str(exc), retryable=False) from exc


class _Slots:
    """At most ``size`` holders at once; more wait in arrival order.

    Taking a free slot does not yield to the scheduler (as Trio's ``CapacityLimiter``'s
    ``*_nowait`` calls); a released slot goes straight to the longest waiter. Cancelling a
    waiter takes nothing. A ``size`` below 1 raises ``ValueError``.
    """

    __slots__ = ("free", "waiting")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"step_concurrency must be >= 1, got {size}")
        self.free = size
        self.waiting = trio.lowlevel.ParkingLot()

    async def acquire(self) -> None:
        """Take a slot, waiting while none is free."""
        if self.free > 0:  # never while someone waits: a release hands its slot over
            self.free -= 1
            return
        await self.waiting.park()  # woken by ``release`` with its slot handed over

    def release(self) -> None:
        """Give the slot back, to the longest waiter if any."""
        if self.waiting:
            self.waiting.unpark()
        else:
            self.free += 1


class InlineStep:
    """Runs a step without retries in the calling task (the run's own task), sparing the
    two task switches of asking a step actor.

    Such a step has no state and no retry that a fresh actor incarnation could serve, so
    an actor adds nothing but cost. At most ``concurrency`` executions run at once (the
    step actor's own limit); more wait for a slot. Each execution gets the span a step
    actor's ``RunStep`` would get, unless ``tracer`` is None (tracing off). Cancelling the
    caller cancels the step's function. A failure of the execution machinery itself (what
    would crash a step actor) is logged and raises ``StepFailed`` like a crash of the
    actor does.
    """

    __slots__ = ("init_schema", "runtime", "slots", "span_name", "step", "tracer")

    def __init__(
        self,
        step: Step,
        init_schema: Any,
        runtime: Mastra,
        concurrency: int,
        *,
        tracer: Tracer | None,
        name: str,
    ) -> None:
        self.step = step
        self.init_schema = init_schema
        self.runtime = runtime
        self.slots = _Slots(concurrency)
        self.tracer = tracer
        self.span_name = f"{name} RunStep"  # the span a step actor's message would get

    async def run(self, msg: RunStep) -> StepOutcome:
        """Execute ``msg`` once; raises ``StepFailed`` as a step actor's ask would."""
        await self.slots.acquire()
        try:
            if self.tracer is None:
                return await execute_step(self.step, self.init_schema, self.runtime, msg)
            with self.tracer.start_as_current_span(self.span_name):
                return await execute_step(self.step, self.init_schema, self.runtime, msg)
        except StepFailed:
            raise
        except Exception as exc:
            log.exception("step %r of run %r crashed", self.step.id, msg.run_id)
            raise StepFailed(f"step actor failed: {type(exc).__name__}: {exc}") from exc
        finally:
            self.slots.release()


async def call_step(ref: ActorRef, msg: RunStep) -> StepOutcome:
    """Run ``msg`` on the step actor ``ref``; cancelling this cancels the step's function
    (a ``CancelSteps`` for the run follows the abandoned ask, queued within a second).

    Raises ``StepFailed``, or ``ActorCrashed``/``ActorStopped`` when the actor failed.
    """
    try:
        outcome: StepOutcome = await ref.ask(msg)
    except trio.Cancelled:
        with trio.CancelScope(shield=True), trio.move_on_after(1.0), suppress(ActorError):
            await ref.send(CancelSteps(run_id=msg.run_id))
        raise
    return outcome
