"""The workflow DSL, mirroring Mastra's ``createWorkflow(...).then(...).commit()``.

```python
flow = (
    Workflow("three-step", input_schema=Value, output_schema=Message)
    .then(add_one)
    .parallel([double, square])          # next step gets {"double": ..., "square": ...}
    .map(lambda ctx: {"value": ctx.input_data["double"]["value"]})
    .then(format_step)
    .commit()
)
dag = Workflow("dag", input_schema=Value, output_schema=Any)
dag.add(a).add(b, depends_on=["a"]).add(c, depends_on=["a"]).add(d, depends_on=["b", "c"])
dag.commit()
```

An ``Agent`` spec, an ``AgentRef`` or a ``Tool`` can go wherever a step goes: an agent step
takes ``{prompt}`` and outputs ``{text}``, a tool step takes the tool's input and outputs its
output (``agent_step`` and ``tool_step`` set ids, retries or structured output).

Building is not thread-safe and happens once at import time; ``commit()`` checks the graph
(cycles, missing dependencies, duplicate ids, mismatched schemas) and freezes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from actors.workflow._adapt import as_step
from actors.workflow._errors import WorkflowDefinitionError
from actors.workflow._graph import (
    BranchNode,
    Condition,
    FlowContext,
    ForeachNode,
    Graph,
    LoopNode,
    MapFn,
    MapNode,
    Node,
    SleepNode,
    StepNode,
    WorkflowNode,
    build_graph,
)
from actors.workflow.step import Step

if TYPE_CHECKING:
    from actors.agent import Agent, AgentRef
    from actors.tools import Tool
    from actors.workflow._handle import WorkflowDeployment, WorkflowRef
    from runtime import Spawner

    StepLike = Step | Tool | Agent | AgentRef

__all__ = ["Workflow"]

Mode = Literal["empty", "chain", "dag"]
When = datetime | float | Callable[[FlowContext], float]


class Workflow:
    """A workflow definition: build it with the chain methods or ``add``, then ``commit()``.

    A committed workflow can be spawned (``await rt.spawn(flow)`` gives a ``WorkflowRef``,
    snapshots kept in memory; ``await rt.spawn(flow.deploy(store="sqlite"))`` persists them
    through that store actor) or used as a step of another workflow.
    """

    def __init__(
        self,
        id: str,
        input_schema: Any = Any,
        output_schema: Any = Any,
        *,
        description: str = "",
    ) -> None:
        if not id or not isinstance(id, str):
            raise WorkflowDefinitionError(f"workflow id must be a non-empty string, got {id!r}")
        self.id = id
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.description = description
        self._nodes: list[Node] = []
        self._tail: tuple[str, ...] = ()
        self._tail_join = False
        self._mode: Mode = "empty"
        self._serial = 0
        self._graph: Graph | None = None

    # -- building --------------------------------------------------------------------
    def _check_open(self, mode: Mode) -> None:
        if self._graph is not None:
            raise WorkflowDefinitionError(f"workflow {self.id!r} is committed; it cannot change")
        if self._mode not in ("empty", mode):
            raise WorkflowDefinitionError(
                f"workflow {self.id!r}: use either the chain methods or add(depends_on=...), "
                "not both"
            )
        self._mode = mode

    def _next_id(self, kind: str) -> str:
        self._serial += 1
        return f"{kind}-{self._serial}"

    def _chain(self, *nodes: Node, join: bool = False) -> Workflow:
        self._nodes.extend(nodes)
        self._tail = tuple(n.id for n in nodes)
        self._tail_join = join
        return self

    def _deps(self) -> tuple[tuple[str, ...], bool]:
        self._check_open("chain")
        return self._tail, self._tail_join

    def then(self, step: StepLike | Workflow) -> Workflow:
        """Run ``step`` (or a committed nested workflow) after what came before.

        Wherever a step goes, an ``Agent``, ``AgentRef`` or ``Tool`` may go too (see
        ``agent_step`` and ``tool_step``); anything else raises ``WorkflowDefinitionError``.
        """
        deps, join = self._deps()
        if isinstance(step, Workflow):
            return self._chain(WorkflowNode(step.id, deps, join, step.graph))
        s = as_step(step)
        return self._chain(StepNode(s.id, deps, join, s))

    def parallel(self, steps: Sequence[StepLike]) -> Workflow:
        """Run ``steps`` concurrently on the same input; the next one gets ``{id: output}``."""
        deps, join = self._deps()
        if not steps:
            raise WorkflowDefinitionError(f"workflow {self.id!r}: parallel() needs steps")
        converted = [as_step(s) for s in steps]
        return self._chain(*(StepNode(s.id, deps, join, s) for s in converted), join=True)

    def branch(self, cases: Sequence[tuple[Condition, StepLike]]) -> Workflow:
        """Run every step whose condition holds (concurrently); output ``{id: output}``."""
        deps, join = self._deps()
        if not cases:
            raise WorkflowDefinitionError(f"workflow {self.id!r}: branch() needs cases")
        converted = tuple((c, as_step(s)) for c, s in cases)
        return self._chain(BranchNode(self._next_id("branch"), deps, join, converted))

    def dowhile(self, step: StepLike, condition: Condition) -> Workflow:
        """Run ``step`` on its own previous output while ``condition(output)`` holds."""
        deps, join = self._deps()
        s = as_step(step)
        return self._chain(LoopNode(s.id, deps, join, s, condition, until=False))

    def dountil(self, step: StepLike, condition: Condition) -> Workflow:
        """Run ``step`` on its own previous output until ``condition(output)`` holds."""
        deps, join = self._deps()
        s = as_step(step)
        return self._chain(LoopNode(s.id, deps, join, s, condition, until=True))

    def foreach(self, step: StepLike, *, concurrency: int = 1) -> Workflow:
        """Run ``step`` once per item of the input list; the output is the list of results."""
        deps, join = self._deps()
        s = as_step(step)
        if concurrency < 1:
            raise WorkflowDefinitionError(
                f"workflow {self.id!r}: foreach {s.id!r} concurrency must be >= 1"
            )
        return self._chain(ForeachNode(s.id, deps, join, s, concurrency))

    def map(self, fn: MapFn, *, output_schema: Any = Any, id: str | None = None) -> Workflow:
        """Transform the input with ``fn(ctx)`` (sync or async); keep ``fn`` deterministic."""
        deps, join = self._deps()
        return self._chain(MapNode(id or self._next_id("map"), deps, join, fn, output_schema))

    def sleep(self, seconds: float) -> Workflow:
        """Wait ``seconds``, then pass the input on. The run is ``waiting`` meanwhile; the
        wake-up time is saved, so a run restarted mid-sleep sleeps only the rest."""
        deps, join = self._deps()
        if seconds < 0:
            raise WorkflowDefinitionError(f"workflow {self.id!r}: sleep needs seconds >= 0")
        return self._chain(SleepNode(self._next_id("sleep"), deps, join, seconds, None))

    def sleep_until(self, when: When) -> Workflow:
        """Wait until a wall-clock time (datetime, epoch seconds, or a function of the ctx),
        durably and with the run ``waiting``, as ``sleep`` does."""
        deps, join = self._deps()
        until = when.timestamp() if isinstance(when, datetime) else when
        return self._chain(SleepNode(self._next_id("sleep"), deps, join, None, until))

    def add(self, step: StepLike | Workflow, *, depends_on: Sequence[str | Step] = ()) -> Workflow:
        """Explicit DAG form: run ``step`` once all of ``depends_on`` succeeded.

        Its input is the workflow input (no dependencies), the dependency's output (one), or
        ``{dependency id: output}`` (several). The workflow's result is the output of the
        step nothing depends on, or ``{id: output}`` of all such steps.
        """
        self._check_open("dag")
        deps = tuple(d if isinstance(d, str) else d.id for d in depends_on)
        join = len(deps) > 1
        if isinstance(step, Workflow):
            self._nodes.append(WorkflowNode(step.id, deps, join, step.graph))
        else:
            s = as_step(step)
            self._nodes.append(StepNode(s.id, deps, join, s))
        return self

    def commit(self) -> Workflow:
        """Check and freeze the graph; raises ``WorkflowDefinitionError`` naming the steps."""
        if self._graph is not None:
            return self
        if not self._nodes:
            raise WorkflowDefinitionError(f"workflow {self.id!r} has no steps")
        if self._mode == "chain":
            outputs = self._tail
            if self._tail_join:  # ends with parallel(): the result is {id: output}
                node = MapNode(
                    self._next_id("result"), outputs, True, lambda ctx: ctx.input_data, Any
                )
                self._nodes.append(node)
                outputs = (node.id,)
        else:
            used = {d for n in self._nodes for d in n.deps}
            outputs = tuple(n.id for n in self._nodes if n.id not in used)
        self._graph = build_graph(self, self._nodes, outputs)
        return self

    # -- using -----------------------------------------------------------------------
    @property
    def committed(self) -> bool:
        """True after ``commit()``."""
        return self._graph is not None

    @property
    def graph(self) -> Graph:
        """The checked graph; raises if the workflow is not committed."""
        if self._graph is None:
            raise WorkflowDefinitionError(f"workflow {self.id!r} is not committed")
        return self._graph

    def deploy(
        self,
        *,
        store: str | None = None,
        step_concurrency: int = 256,
        keep_runs_for: float | None = None,
        max_active_runs: int = 10_000,
        lease_for: float = 30.0,
    ) -> WorkflowDeployment:
        """A spawnable deployment: snapshots go to the store actor named ``store``
        (``None`` keeps them in memory, lost with the process); with ``keep_runs_for``
        (seconds), finished runs are deleted that long after their last save; at most
        ``max_active_runs`` runs are active at once (more starts wait for one to end); with
        a store shared by several nodes (Postgres), a node that stops renewing its leases
        loses its runs to another node ``lease_for`` seconds later.

        Raises ``ValueError`` naming the argument when ``keep_runs_for`` is not a positive
        number of seconds or ``max_active_runs`` is below 1.
        """
        from actors.workflow._handle import WorkflowDeployment

        if keep_runs_for is not None and not (0 < keep_runs_for < math.inf):
            raise ValueError(
                f"keep_runs_for must be a positive number of seconds, got {keep_runs_for!r}"
            )
        if max_active_runs < 1:
            raise ValueError(f"max_active_runs must be >= 1, got {max_active_runs!r}")
        if not (0 < lease_for < math.inf):
            raise ValueError(f"lease_for must be a positive number of seconds, got {lease_for!r}")
        return WorkflowDeployment(
            self,
            store=store,
            step_concurrency=step_concurrency,
            keep_runs_for=keep_runs_for,
            max_active_runs=max_active_runs,
            lease_for=lease_for,
        )

    async def spawn_in(self, spawner: Spawner) -> WorkflowRef:
        """Spawn this workflow's actor with in-memory snapshots; returns a ``WorkflowRef``."""
        return await self.deploy().spawn_in(spawner)
