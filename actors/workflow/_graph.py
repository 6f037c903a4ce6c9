"""The compiled workflow graph: nodes with dependencies, checked at ``commit()``.

Both the chained DSL (``then``/``parallel``/``branch``/...) and the explicit ``depends_on``
form compile to one ``Graph``: a DAG of nodes. A node runs when all its dependencies have
succeeded; its input is the workflow input (no dependencies), the one dependency's output,
or ``{dependency id: output}`` (a join). Independent nodes run concurrently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from msgspec import inspect as mi

from actors.workflow._errors import WorkflowDefinitionError
from actors.workflow._schema import Join, incompatibility
from actors.workflow.step import Step

if TYPE_CHECKING:
    from actors.workflow.dsl import Workflow

__all__ = [
    "BranchNode",
    "FlowContext",
    "ForeachNode",
    "Graph",
    "LoopNode",
    "MapNode",
    "Node",
    "SleepNode",
    "StepNode",
    "WorkflowNode",
    "build_graph",
]


@dataclass(frozen=True)
class FlowContext:
    """What a condition or a ``map`` function sees (no side effects expected)."""

    input_data: Any
    run_id: str
    iteration_count: int
    results: dict[str, Any]
    init: Any

    def get_step_result(self, step: Step | str) -> Any:
        """The output (as builtins) of an earlier step; ``KeyError`` if it has none."""
        key = step if isinstance(step, str) else step.id
        if key not in self.results:
            raise KeyError(f"step {key!r} has no result in run {self.run_id!r}")
        return self.results[key]

    def get_init_data(self) -> Any:
        """The run's input (as builtins)."""
        return self.init


Condition = Callable[[FlowContext], bool | Awaitable[bool]]
MapFn = Callable[[FlowContext], Any]


@dataclass(frozen=True)
class Node:
    """A graph node: its id, the nodes it waits for, and whether its input is a join."""

    id: str
    deps: tuple[str, ...]
    join: bool


@dataclass(frozen=True)
class StepNode(Node):
    """Run one step."""

    step: Step


@dataclass(frozen=True)
class WorkflowNode(Node):
    """Run a nested workflow as one step of this one."""

    graph: Graph


@dataclass(frozen=True)
class BranchNode(Node):
    """Run every step whose condition holds; output ``{step id: output}``."""

    cases: tuple[tuple[Condition, Step], ...]


@dataclass(frozen=True)
class LoopNode(Node):
    """``dowhile`` (repeat while the condition holds) or ``dountil`` (until it holds)."""

    step: Step
    condition: Condition
    until: bool


@dataclass(frozen=True)
class ForeachNode(Node):
    """Run the step once per item of the input list, ``concurrency`` at a time."""

    step: Step
    concurrency: int


@dataclass(frozen=True)
class MapNode(Node):
    """Transform the input with a function of the ``FlowContext``."""

    fn: MapFn
    output_schema: Any


@dataclass(frozen=True)
class SleepNode(Node):
    """Pass the input through after ``seconds``, or at the wall-clock time ``until``."""

    seconds: float | None
    until: Callable[[FlowContext], float] | float | None


@dataclass(frozen=True)
class Graph:
    """A checked, immutable workflow graph."""

    workflow_id: str
    input_schema: Any
    output_schema: Any
    nodes: dict[str, Node]
    order: tuple[str, ...]
    outputs: tuple[str, ...]
    steps: dict[str, Step] = field(default_factory=dict)

    @cached_property
    def linear(self) -> bool:
        """True when the nodes form one chain (each depends on the one before it), so at
        most one node is ever ready to run."""
        order = self.order
        return all(
            self.nodes[nid].deps == ((order[i - 1],) if i else ()) for i, nid in enumerate(order)
        )

    def dependents(self, node_id: str) -> list[str]:
        """The nodes that wait for ``node_id``."""
        return [n.id for n in self.nodes.values() if node_id in n.deps]

    def node_of(self, step_id: str) -> str | None:
        """The id of the node that runs the step ``step_id`` (None if there is none)."""
        for node in self.nodes.values():
            if node.id == step_id and not isinstance(node, MapNode | SleepNode | BranchNode):
                return node.id
            if isinstance(node, BranchNode) and any(s.id == step_id for _, s in node.cases):
                return node.id
        return None

    def step_specs(self, prefix: str = "") -> dict[str, tuple[Step, Any]]:
        """Every step here and in nested graphs, keyed by dotted path, with the input
        schema of the workflow it belongs to (what its ``get_init_data`` returns)."""
        found = {f"{prefix}{sid}": (s, self.input_schema) for sid, s in self.steps.items()}
        for node in self.nodes.values():
            if isinstance(node, WorkflowNode):
                found.update(node.graph.step_specs(f"{prefix}{node.id}."))
        return found

    def step_at(self, path: list[str]) -> Step | Graph | None:
        """The step (or nested graph) at ``path`` (nested workflow ids, then a step id)."""
        head = path[0]
        if len(path) == 1 and head in self.steps:
            return self.steps[head]
        node = self.nodes.get(head)
        if isinstance(node, WorkflowNode):
            return node.graph if len(path) == 1 else node.graph.step_at(path[1:])
        return None

    def step_paths(self, prefix: str = "") -> dict[str, Step]:
        """Every step of this graph and of nested graphs, keyed by dotted path."""
        found = {f"{prefix}{sid}": s for sid, s in self.steps.items()}
        for node in self.nodes.values():
            if isinstance(node, WorkflowNode):
                found.update(node.graph.step_paths(f"{prefix}{node.id}."))
        return found


def _node_steps(node: Node) -> list[Step]:
    match node:
        case StepNode(step=s) | LoopNode(step=s) | ForeachNode(step=s):
            return [s]
        case BranchNode(cases=cases):
            return [s for _, s in cases]
    return []


def build_graph(workflow: Workflow, nodes: list[Node], outputs: tuple[str, ...]) -> Graph:
    """Check ``nodes`` (ids, dependencies, cycles, schemas) and build the ``Graph``."""
    wid = workflow.id
    by_id: dict[str, Node] = {}
    steps: dict[str, Step] = {}
    for node in nodes:
        names = [node.id] + [s.id for s in _node_steps(node) if s.id != node.id]
        for name in names:
            if name in by_id or name in steps:
                raise WorkflowDefinitionError(
                    f"workflow {wid!r}: step id {name!r} is used twice; give each use its own id"
                )
        by_id[node.id] = node
        steps.update({s.id: s for s in _node_steps(node)})
    for node in nodes:
        for dep in node.deps:
            if dep not in by_id:
                raise WorkflowDefinitionError(
                    f"workflow {wid!r}: step {node.id!r} depends on {dep!r}, which does not exist"
                )
    order = _topological(wid, by_id)
    graph = Graph(wid, workflow.input_schema, workflow.output_schema, by_id, order, outputs, steps)
    _check_schemas(graph)
    return graph


def _topological(wid: str, nodes: dict[str, Node]) -> tuple[str, ...]:
    """Nodes in dependency order; a cycle raises naming the steps on it."""
    state: dict[str, int] = {}
    order: list[str] = []

    def visit(nid: str, path: list[str]) -> None:
        if state.get(nid) == 2:
            return
        if state.get(nid) == 1:
            cycle = [*path[path.index(nid) :], nid][::-1]  # in the order steps would run
            raise WorkflowDefinitionError(
                f"workflow {wid!r}: dependency cycle {' -> '.join(cycle)}"
            )
        state[nid] = 1
        for dep in nodes[nid].deps:
            visit(dep, [*path, nid])
        state[nid] = 2
        order.append(nid)

    for nid in nodes:
        visit(nid, [])
    return tuple(order)


def _list_item(schema: Any) -> Any | None:
    info = mi.type_info(schema) if not isinstance(schema, Join) else None
    if info is None:
        return None
    if isinstance(info, mi.AnyType):
        return Any
    if isinstance(info, mi.ListType | mi.VarTupleType):
        return info.item_type
    return None


def _produced(graph: Graph, node: Node, produced: dict[str, Any]) -> Any:
    """The schema of a node's input."""
    if not node.deps:
        return graph.input_schema
    if node.join:
        return Join({dep: produced[dep] for dep in node.deps})
    return produced[node.deps[0]]


def _require(graph: Graph, node: Node, source: Any, step: Step, what: str) -> None:
    reason = incompatibility(source, step.input_schema)
    if reason is not None:
        raise WorkflowDefinitionError(
            f"workflow {graph.workflow_id!r}: step {step.id!r} input does not match {what}: "
            f"{reason}"
        )


def _origin(node: Node) -> str:
    if not node.deps:
        return "the workflow input"
    return " and ".join(f"the output of {d!r}" for d in node.deps)


def _check_schemas(graph: Graph) -> None:
    produced: dict[str, Any] = {}
    for nid in graph.order:
        node = graph.nodes[nid]
        source = _produced(graph, node, produced)
        produced[nid] = _check_node(graph, node, source)
    final: Any
    if len(graph.outputs) == 1:
        final = produced[graph.outputs[0]]
    else:
        final = Join({o: produced[o] for o in graph.outputs})
    reason = incompatibility(final, graph.output_schema)
    if reason is not None:
        last = ", ".join(repr(o) for o in graph.outputs)
        raise WorkflowDefinitionError(
            f"workflow {graph.workflow_id!r}: output of {last} does not match the workflow "
            f"output schema: {reason}"
        )


def _check_node(graph: Graph, node: Node, source: Any) -> Any:  # noqa: PLR0911
    """Check one node's input and return the schema of its output."""
    origin = _origin(node)
    match node:
        case StepNode(step=s):
            _require(graph, node, source, s, origin)
            return s.output_schema
        case WorkflowNode(graph=g):
            reason = incompatibility(source, g.input_schema)
            if reason is not None:
                raise WorkflowDefinitionError(
                    f"workflow {graph.workflow_id!r}: nested workflow {node.id!r} input does "
                    f"not match {origin}: {reason}"
                )
            return g.output_schema
        case BranchNode(cases=cases):
            for _, s in cases:
                _require(graph, node, source, s, origin)
            return Join({s.id: s.output_schema for _, s in cases}, optional=True)
        case LoopNode(step=s):
            _require(graph, node, source, s, origin)
            _require(graph, node, s.output_schema, s, f"its own output (loop {s.id!r})")
            return s.output_schema
        case ForeachNode(step=s):
            item = _list_item(source)
            if item is None:
                raise WorkflowDefinitionError(
                    f"workflow {graph.workflow_id!r}: foreach step {s.id!r} needs a list, "
                    f"but {origin} is not one"
                )
            _require(graph, node, item, s, f"the items of {origin}")
            return list[s.output_schema]  # type: ignore[name-defined]
        case MapNode(output_schema=schema):
            return schema
        case SleepNode():
            return source
    raise WorkflowDefinitionError(f"unknown node type {type(node).__name__}")
