"""Demo workflows of the offline configuration: ``three-step`` and ``approval``.

``three_step`` and ``approval`` are committed workflows; ``three_step_app`` and
``approval_app`` are their deployments with snapshots in the store actor named ``store``
(``factory = "actors.demo.workflows:approval_app"`` in a config file).
"""

from __future__ import annotations

import msgspec

from actors.workflow import StepContext, Workflow, step

__all__ = ["approval", "approval_app", "three_step", "three_step_app"]


class Value(msgspec.Struct, frozen=True):
    """A number travelling through ``three-step``."""

    value: float


class Message(msgspec.Struct, frozen=True):
    """The number and its rendering."""

    value: float
    message: str


def _add_one(ctx: StepContext[Value]) -> Value:
    return Value(ctx.input_data.value + 1)


def _double(ctx: StepContext[Value]) -> Value:
    return Value(ctx.input_data.value * 2)


def _format(ctx: StepContext[Value]) -> Message:
    value = ctx.input_data.value
    shown = int(value) if float(value).is_integer() else value
    return Message(value=value, message=f"result={shown}")


three_step = (
    Workflow("three-step", Value, Message, description="add-one -> double -> format")
    .then(step("add-one", Value, Value, _add_one, description="value + 1"))
    .then(step("double", Value, Value, _double, description="value * 2"))
    .then(step("format", Value, Message, _format, description="render the value"))
    .commit()
)


class Item(msgspec.Struct, frozen=True):
    """What needs an approval."""

    item: str


class ApprovalRequest(msgspec.Struct, frozen=True):
    """The suspend payload: why the run waits and for what."""

    reason: str
    item: str


class Decision(msgspec.Struct, frozen=True):
    """The resume data."""

    approved: bool
    approver: str = "unknown"


class Decided(msgspec.Struct, frozen=True):
    """The item with its decision."""

    item: str
    approved: bool
    approver: str


class Status(msgspec.Struct, frozen=True):
    """The final status line."""

    status: str


async def _request_approval(ctx: StepContext[Item]) -> Decided:
    decision = ctx.resume_data
    if decision is None:
        await ctx.suspend(ApprovalRequest(reason="approval required", item=ctx.input_data.item))
    return Decided(item=ctx.input_data.item, approved=decision.approved, approver=decision.approver)


def _finalize(ctx: StepContext[Decided]) -> Status:
    d = ctx.input_data
    return Status(f"{d.item} {'approved' if d.approved else 'rejected'} by {d.approver}")


approval = (
    Workflow("approval", Item, Status, description="request-approval (suspends) -> finalize")
    .then(
        step(
            "request-approval",
            Item,
            Decided,
            _request_approval,
            suspend_schema=ApprovalRequest,
            resume_schema=Decision,
            description="suspends until resumed with {approved}",
        )
    )
    .then(
        step("finalize", Decided, Status, _finalize, description="turns the decision into a status")
    )
    .commit()
)

three_step_app = three_step.deploy(store="store")
approval_app = approval.deploy(store="store")
