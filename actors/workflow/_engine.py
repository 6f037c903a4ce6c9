"""The run engine: executes a compiled graph against one run's snapshot.

Nodes start as soon as their dependencies succeeded; independent nodes run concurrently. A
node's progress is written to the snapshot and made durable (``SnapshotWriter.commit``)
before anything that depends on it starts, so a restarted run continues from the last
acknowledged step and never repeats one. A finished node is skipped when the engine runs
again over the same snapshot (after a restart or a resume).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterator
from typing import Any

import trio

from actors.workflow._events import EventHub
from actors.workflow._execute import (
    Bailed,
    Failed,
    Signal,
    StepExecutor,
    StepRunner,
    Waits,
)
from actors.workflow._foreach import run_foreach
from actors.workflow._graph import (
    BranchNode,
    Condition,
    FlowContext,
    ForeachNode,
    Graph,
    LoopNode,
    MapNode,
    Node,
    SleepNode,
    StepNode,
    WorkflowNode,
)
from actors.workflow._persist import SnapshotWriter
from actors.workflow._schema import check
from actors.workflow._snapshot import NodeState, RunSnapshot, now_ms
from actors.workflow.step import Step

__all__ = ["Engine", "StepRunner"]


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Engine(StepExecutor):
    """Runs ``graph`` over ``snapshot`` until nothing more can run.

    ``run`` sets ``snapshot.status`` to ``success``, ``failed``, ``bailed`` or ``suspended``
    (with ``result`` / ``error``) but does not save that final state. Cancellation cancels
    the running steps; their records stay ``running`` for the caller to settle.
    """

    def __init__(
        self,
        graph: Graph,
        snapshot: RunSnapshot,
        writer: SnapshotWriter,
        runner: StepRunner,
        hub: EventHub,
        *,
        prefix: str = "",
        waits: Waits | None = None,
    ) -> None:
        super().__init__(snapshot, writer, runner, hub, prefix=prefix, waits=waits)
        self.graph = graph
        self._started: set[str] = set()
        self._cursor = 0  # linear graphs: the nodes before it succeeded
        self._inflight = 0
        self._signal: Signal | None = None
        self._nursery: trio.Nursery | None = None

    # -- scheduling -------------------------------------------------------------------
    async def run(self) -> None:
        """Execute every runnable node, then settle the run's status."""
        self._started.clear()
        self._cursor = 0
        self._signal = None
        if self.graph.linear:
            # one node at a time: this task runs them all, no nursery needed
            await self._run_node(self._schedule())
        else:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self._run_node(self._schedule())
            self._nursery = None
        self._settle()

    def _ready(self) -> Iterator[Node]:
        nodes = self.snapshot.nodes
        for nid in self.graph.order:
            state = nodes.get(nid)
            if nid in self._started or (state is not None and state.status != "running"):
                continue
            if all(d in nodes and nodes[d].status == "success" for d in self.graph.nodes[nid].deps):
                yield self.graph.nodes[nid]

    def _next_in_chain(self) -> Node | None:
        """``_ready`` for a linear graph: the first node that has not succeeded, unless it
        already started or ended otherwise (every node before it succeeded)."""
        nodes, order = self.snapshot.nodes, self.graph.order
        while self._cursor < len(order):
            nid = order[self._cursor]
            state = nodes.get(nid)
            if state is not None and state.status == "success":
                self._cursor += 1
            elif nid in self._started or (state is not None and state.status != "running"):
                return None
            else:
                return self.graph.nodes[nid]
        return None

    def _schedule(self) -> Node | None:
        """Claim every ready node: the first is returned for the calling task to run itself
        (a chain then runs in one task), the others start in the nursery."""
        if self._signal is not None and self._signal.rank >= Bailed.rank:
            return None
        if self.graph.linear:
            node = self._next_in_chain()
            if node is not None:
                self._started.add(node.id)
                self._inflight += 1
            return node
        kept: Node | None = None
        for node in list(self._ready()):
            self._started.add(node.id)
            self._inflight += 1
            if kept is None:
                kept = node
            else:
                assert self._nursery is not None, "a linear graph has one ready node at most"
                self._nursery.start_soon(self._run_node, node)
        return kept

    def _note(self, signal: Signal) -> None:
        if self._signal is None or signal.rank > self._signal.rank:
            self._signal = signal

    def _settle(self) -> None:
        snap = self.snapshot
        signal = self._signal
        if isinstance(signal, Failed):
            snap.status, snap.error = "failed", str(signal)
        elif isinstance(signal, Bailed):
            snap.status, snap.result = "bailed", signal.result
        elif all(
            snap.nodes.get(o) and snap.nodes[o].status == "success" for o in self.graph.outputs
        ):
            self._finish_success()
        else:
            snap.status = "suspended"

    def _finish_success(self) -> None:
        snap = self.snapshot
        outputs = self.graph.outputs
        value = (
            self._output(outputs[0]) if len(outputs) == 1 else {o: self._output(o) for o in outputs}
        )
        try:
            snap.result = check(value, self.graph.output_schema, step=None, role="output")
            snap.status = "success"
        except ValueError as exc:
            snap.status, snap.error = "failed", str(exc)

    def _input(self, node: Node) -> Any:
        if not node.deps:
            return self.snapshot.input
        if node.join:
            return {d: self._output(d) for d in node.deps}
        return self._output(node.deps[0])

    def _output(self, node_id: str) -> Any:
        """A succeeded node's output: a node with a step record of its own (every kind but
        branch and map) finds it there, so that the snapshot holds it once."""
        if isinstance(self.graph.nodes[node_id], _KEEPS_OUTPUT):
            return self.snapshot.nodes[node_id].output
        return self.snapshot.context[node_id].output

    # -- nodes ------------------------------------------------------------------------
    async def _run_node(self, node: Node | None) -> None:
        while node is not None:
            if not await self._run_one(node):
                return
            node = self._schedule()

    async def _run_one(self, node: Node) -> bool:
        """Run one node; True when it succeeded."""
        state = self.snapshot.nodes.get(node.id)
        if state is None:
            state = self.snapshot.nodes[node.id] = NodeState(status="running")
        try:
            output = await self._dispatch(node, state, self._input(node))
        except Signal as signal:
            state.status = "failed" if isinstance(signal, Failed) else "suspended"
            if isinstance(signal, Bailed):
                state.status = "bailed"
            self._note(signal)
            return False
        finally:
            self._inflight -= 1
        state.status = "success"
        if isinstance(node, _KEEPS_OUTPUT):
            state.output = output
        return True

    def _last_success(self) -> None:
        """Settle the run early when the node finishing now completes it, so that its
        step's snapshot also carries the run's final status (one write instead of two)."""
        nodes = self.snapshot.nodes
        if (
            self._signal is None
            and self._inflight == 1
            and all(o in nodes and nodes[o].status == "success" for o in self.graph.outputs)
        ):
            self._settle()

    async def _dispatch(self, node: Node, state: NodeState, value: Any) -> Any:  # noqa: PLR0911
        match node:
            case StepNode(step=step):
                return await self._exec(step, value, lambda out: _done(state, out))
            case LoopNode():
                return await self._loop(node, state, value)
            case BranchNode():
                return await self._branch(node, state, value)
            case ForeachNode():
                return await self._foreach(node, state, value)
            case MapNode():
                return await self._map(node, value)
            case SleepNode():
                return await self._sleep(node, state, value)
            case WorkflowNode():
                return await self._nested(node, state, value)
        raise Failed(f"unknown node {node.id!r}")

    def _flow(self, value: Any, iteration: int = 0) -> FlowContext:
        snap = self.snapshot
        return FlowContext(value, snap.run_id, iteration, snap.results(), snap.input)

    async def _condition(self, cond: Condition, value: Any, iteration: int, where: str) -> bool:
        try:
            return bool(await _maybe_await(cond(self._flow(value, iteration))))
        except Exception as exc:
            raise Failed(f"condition of {where!r} raised {type(exc).__name__}: {exc}") from exc

    async def _map(self, node: MapNode, value: Any) -> Any:
        try:
            out = await _maybe_await(node.fn(self._flow(value)))
            return check(out, node.output_schema, step=node.id, role="output")
        except Exception as exc:
            raise Failed(f"map {node.id!r} raised {type(exc).__name__}: {exc}") from exc

    async def _loop(self, node: LoopNode, state: NodeState, value: Any) -> Any:
        where = node.step.id
        if state.iteration > 0:
            value = state.value
            if await self._condition(node.condition, value, state.iteration, where) == node.until:
                return value

        def advance(out: Any) -> None:
            state.iteration += 1
            state.value = out

        while True:
            value = await self._exec(node.step, value, advance)
            if await self._condition(node.condition, value, state.iteration, where) == node.until:
                return value

    async def _branch(self, node: BranchNode, state: NodeState, value: Any) -> Any:
        if state.selected is None:
            chosen = [s.id for c, s in node.cases if await self._condition(c, value, 0, node.id)]
            state.selected = chosen
        steps = {s.id: s for _, s in node.cases}

        async def one(step: Step) -> None:
            await self._exec(step, value, lambda out: state.done.__setitem__(step.id, out))

        await self._gather([one(steps[sid]) for sid in state.selected if sid not in state.done])
        return {sid: state.done[sid] for sid in state.selected}

    async def _gather(self, calls: list[Awaitable[None]]) -> None:
        """Run ``calls`` concurrently; re-raise the most severe signal once all ended."""
        signals: list[Signal] = []

        async def guard(call: Awaitable[None]) -> None:
            try:
                await call
            except Signal as signal:
                signals.append(signal)

        async with trio.open_nursery() as nursery:
            for call in calls:
                nursery.start_soon(guard, call)
        if signals:
            raise max(signals, key=lambda s: s.rank)

    async def _sleep(self, node: SleepNode, state: NodeState, value: Any) -> Any:
        if state.wake_at is None:
            if node.seconds is not None:
                state.wake_at = self.wall_time() + node.seconds
            else:
                until = node.until
                try:
                    when = until(self._flow(value)) if callable(until) else until
                    state.wake_at = float(when or 0)
                except Exception as exc:
                    raise Failed(f"sleep_until {node.id!r}: {type(exc).__name__}: {exc}") from exc
        return await self._wait_until(node.id, state.wake_at, value)

    async def _nested(self, node: WorkflowNode, state: NodeState, value: Any) -> Any:
        if state.child is None:
            state.child = RunSnapshot(
                run_id=self.snapshot.run_id,
                workflow_id=node.graph.workflow_id,
                status="running",
                input=value,
                created_at=now_ms(),
            )
        child = state.child
        record = self._begin(node.id, value)
        await self._emit("workflow-step-start", node.id, record)
        engine = Engine(
            node.graph,
            child,
            self.writer,
            self.runner,
            self.hub,
            prefix=f"{self.prefix}{node.id}.",
            waits=self.waits,
        )
        await engine.run()
        if child.status == "success":
            return await self._succeed(node.id, record, child.result, lambda o: _done(state, o))
        if child.status == "suspended":
            payloads = child.suspend_payloads()
            await self._suspend(node.id, record, next(iter(payloads.values()), None))
        if child.status == "bailed":
            raise Bailed(child.result)
        return await self._fail(node.id, record, child.error or "nested workflow failed")

    async def _foreach(self, node: ForeachNode, state: NodeState, value: Any) -> Any:
        return await run_foreach(self, node.step, state, value, node.concurrency)


_KEEPS_OUTPUT = (BranchNode, MapNode)
"""Nodes without a step record of their own: their state keeps their output."""


def _done(state: NodeState, output: Any) -> None:
    """Mark a node whose output is in its step record succeeded."""
    state.status = "success"
