"""What our MCP server offers: the runtime's tools, its agents as ``ask_<agentId>`` (taking
``{message}``) and its workflows as ``run_<workflowId>`` (taking the workflow's input), as
Mastra's ``MCPServer`` names them; and running one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import trio

from actors._jsonschema import inline_refs
from actors.agent import AgentRef
from actors.mcp.messages import Selection
from actors.tools import FieldError, ToolRef
from actors.workflow import SchemaViolation, WorkflowRef
from runtime import ActorError, ActorRef, Mastra

__all__ = ["Exposed", "Outcome", "Selection", "exposed_tools", "find_exposed", "run_exposed"]

ToolType = Literal["tool", "agent", "workflow"]
_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "The question or input for the agent."}
    },
    "required": ["message"],
    "additionalProperties": False,
    "$schema": "http://json-schema.org/draft-07/schema#",
}


@dataclass(frozen=True, slots=True)
class Exposed:
    """One tool of our MCP server and the actor that runs it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    tool_type: ToolType
    ref: ActorRef


@dataclass(frozen=True, slots=True)
class Outcome:
    """A call's outcome: ``value`` when ``ok``; else ``error`` (and, for arguments that do
    not fit the input schema, ``issues`` naming each field)."""

    ok: bool
    value: Any = None
    error: str = ""
    issues: tuple[FieldError, ...] = ()


def _chosen(names: list[str], refs: dict[str, ActorRef]) -> dict[str, ActorRef]:
    if "*" in names:
        return refs
    return {name: refs[name] for name in names if name in refs}


async def _describe(kind: ToolType, name: str, ref: ActorRef) -> Exposed | None:
    """``None`` for an actor that stopped meanwhile."""
    try:
        if kind == "tool":
            info = await ToolRef(ref).info()
            return Exposed(info.id, info.description, info.input_schema, kind, ref)
        if kind == "agent":
            agent = await AgentRef(ref).info()
            about = agent.description or agent.instructions
            text = f"Ask agent '{name}' a question. Agent description: {about}"
            return Exposed(f"ask_{name}", text, _MESSAGE_SCHEMA, kind, ref)
        flow = await WorkflowRef(ref).describe()
        text = f"Run workflow '{name}'. Workflow description: {flow.description or name}"
        return Exposed(f"run_{name}", text, inline_refs(flow.input_schema), kind, ref)
    except ActorError:
        return None


async def exposed_tools(rt: Mastra, selection: Selection) -> dict[str, Exposed]:
    """Every tool offered under ``selection``, by MCP tool name, described concurrently;
    an explicitly named tool comes first when an agent or workflow name would clash."""
    wanted: list[tuple[ToolType, str, ActorRef]] = []
    for kind, names in (
        ("tool", selection.tools),
        ("agent", selection.agents),
        ("workflow", selection.workflows),
    ):
        chosen = _chosen(names, rt.actors(kind))
        wanted += [(kind, name, ref) for name, ref in chosen.items()]  # type: ignore[misc]
    found: list[Exposed | None] = [None] * len(wanted)

    async def describe(index: int, kind: ToolType, name: str, ref: ActorRef) -> None:
        found[index] = await _describe(kind, name, ref)

    async with trio.open_nursery() as nursery:
        for index, (kind, name, ref) in enumerate(wanted):
            nursery.start_soon(describe, index, kind, name, ref)
    offered: dict[str, Exposed] = {}
    for item in found:
        if item is not None:
            offered.setdefault(item.name, item)
    return offered


async def _ask_agent(ref: ActorRef, args: Any) -> Outcome:
    message = args.get("message") if isinstance(args, dict) else None
    if not isinstance(message, str):
        issue = FieldError(field="message", message="Required: a string")
        return Outcome(ok=False, error="Invalid arguments: message: Required", issues=(issue,))
    from actors.server._agent_wire import result_json  # the server imports this module

    result = await AgentRef(ref).generate(message)
    return Outcome(ok=True, value=result_json(result))


async def _run_workflow(ref: ActorRef, args: Any) -> Outcome:
    try:
        result = await WorkflowRef(ref).start(args)
    except SchemaViolation as exc:
        field = exc.field or "input"
        issue = FieldError(field=field, message=exc.detail)
        return Outcome(ok=False, error=f"Invalid arguments: {field}: {exc.detail}", issues=(issue,))
    return Outcome(ok=True, value=result.to_mastra())


async def run_exposed(item: Exposed, args: Any) -> Outcome:
    """Run ``item`` with ``args``. A tool's failure, an agent's or a workflow's error, and
    arguments that do not fit become an unsuccessful ``Outcome`` (never an exception, except
    cancellation)."""
    try:
        if item.tool_type == "agent":
            return await _ask_agent(item.ref, args)
        if item.tool_type == "workflow":
            return await _run_workflow(item.ref, args)
        result = await ToolRef(item.ref).execute(args)
    except Exception as exc:
        return Outcome(ok=False, error=f"{item.name} failed: {type(exc).__name__}: {exc}")
    if result.ok:
        return Outcome(ok=True, value=result.value)
    assert result.error is not None
    issues = tuple(result.error.validation_errors)
    return Outcome(ok=False, value=result.value, error=result.error.message, issues=issues)


def find_exposed(rt: Mastra, selection: Selection, name: str) -> Exposed | None:
    """The offered tool called ``name`` without describing anything (for a call): a tool of
    that id first, then ``ask_<agent>``, then ``run_<workflow>``."""
    candidates: list[tuple[ToolType, list[str], str]] = [("tool", selection.tools, name)]
    if name.startswith("ask_"):
        candidates.append(("agent", selection.agents, name.removeprefix("ask_")))
    if name.startswith("run_"):
        candidates.append(("workflow", selection.workflows, name.removeprefix("run_")))
    for kind, names, actor in candidates:
        ref = rt.lookup(actor, kind=kind)
        if ref is not None and ("*" in names or actor in names):
            return Exposed(name, "", {}, kind, ref)
    return None
