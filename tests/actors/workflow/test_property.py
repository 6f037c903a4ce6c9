"""Random workflows (chains with parallel, branches, loops, foreach; explicit DAGs) give the
same result through the actors as a plain sequential reference interpreter."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.workflow import FlowContext, StepContext, Workflow, step
from runtime import RuntimeConfig, TelemetryConfig, open_runtime


class V(msgspec.Struct):
    v: int


Op = tuple[str, int]
_serial = itertools.count()


def apply(op: Op, v: int) -> int:
    kind, k = op
    return (v + k) % 1000 if kind == "add" else (v * k) % 1000


def op_step(id: str, op: Op) -> Any:
    async def run(ctx: StepContext[V]) -> V:
        await trio.lowlevel.checkpoint()  # let concurrent steps interleave
        return V(apply(op, ctx.input_data.v))

    return step(id, V, V, run)


ops = st.tuples(st.sampled_from(["add", "mul"]), st.integers(1, 9))
entries = st.one_of(
    st.tuples(st.just("step"), ops),
    st.tuples(st.just("parallel"), st.lists(ops, min_size=1, max_size=3)),
    st.tuples(st.just("branch"), st.integers(0, 999), ops, ops),
    st.tuples(st.just("dowhile"), st.integers(1, 9), st.integers(0, 40)),
    st.tuples(st.just("dountil"), st.integers(1, 9), st.integers(0, 40)),
    st.tuples(st.just("foreach"), st.integers(0, 6), ops, st.integers(1, 4)),
)


def reference_chain(spec: list[Any], v: int) -> int:
    """The plain sequential meaning of a chain spec."""
    for entry in spec:
        match entry:
            case ("step", op):
                v = apply(op, v)
            case ("parallel", many):
                v = sum(apply(op, v) for op in many) % 1000
            case ("branch", threshold, hi, lo):
                v = apply(hi if v >= threshold else lo, v)
            case ("dowhile", k, limit):
                v += k
                while v < limit:
                    v += k
            case ("dountil", k, limit):
                v += k
                while v < limit:
                    v += k
            case ("foreach", n, op, _):
                v = sum(apply(op, v + i) for i in range(n)) % 1000
    return v


def _loop(id: str, k: int) -> Any:
    return step(id, V, V, lambda ctx: V(ctx.input_data.v + k))


def _sum_join(ctx: FlowContext) -> Any:
    return {"v": sum(x["v"] for x in ctx.input_data.values()) % 1000}


def _only(ctx: FlowContext) -> Any:
    return next(iter(ctx.input_data.values()))


def _sum_list(ctx: FlowContext) -> Any:
    return {"v": sum(x["v"] for x in ctx.input_data) % 1000}


def _at_least(limit: int) -> Any:
    return lambda ctx: ctx.input_data["v"] >= limit


def _below(limit: int) -> Any:
    return lambda ctx: ctx.input_data["v"] < limit


def _spread(n: int) -> Any:
    return lambda ctx: [{"v": ctx.input_data["v"] + j} for j in range(n)]


def build_chain(spec: list[Any]) -> Workflow:
    flow = Workflow(f"chain-{next(_serial)}", V, V)
    for i, entry in enumerate(spec):
        match entry:
            case ("step", op):
                flow.then(op_step(f"s{i}", op))
            case ("parallel", many):
                flow.parallel([op_step(f"p{i}-{j}", op) for j, op in enumerate(many)])
                flow.map(_sum_join)
            case ("branch", threshold, hi, lo):
                flow.branch(
                    [
                        (_at_least(threshold), op_step(f"hi{i}", hi)),
                        (_below(threshold), op_step(f"lo{i}", lo)),
                    ]
                )
                flow.map(_only)
            case ("dowhile", k, limit):
                flow.dowhile(_loop(f"w{i}", k), _below(limit))
            case ("dountil", k, limit):
                flow.dountil(_loop(f"u{i}", k), _at_least(limit))
            case ("foreach", n, op, conc):
                flow.map(_spread(n))
                flow.foreach(op_step(f"f{i}", op), concurrency=conc)
                flow.map(_sum_list)
    return flow.commit()


@st.composite
def dags(draw: st.DrawFn) -> list[tuple[Op, list[int]]]:
    size = draw(st.integers(1, 7))
    nodes: list[tuple[Op, list[int]]] = []
    for i in range(size):
        deps = sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
        nodes.append((draw(ops), deps))
    return nodes


def reference_dag(nodes: list[tuple[Op, list[int]]], v: int) -> Any:
    out: dict[int, int] = {}
    for i, (op, deps) in enumerate(nodes):
        given_v = v if not deps else sum(out[d] for d in deps) % 1000
        out[i] = apply(op, given_v)
    sinks = [i for i in range(len(nodes)) if not any(i in deps for _, deps in nodes)]
    if len(sinks) == 1:
        return {"v": out[sinks[0]]}
    return {f"n{i}": {"v": out[i]} for i in sinks}


def build_dag(nodes: list[tuple[Op, list[int]]]) -> Workflow:
    flow = Workflow(f"dag-{next(_serial)}", V, Any)
    for i, (op, deps) in enumerate(nodes):
        if len(deps) <= 1:
            flow.add(op_step(f"n{i}", op), depends_on=[f"n{d}" for d in deps])
            continue

        async def run(ctx: StepContext[dict[str, V]], op: Op = op) -> V:
            return V(apply(op, sum(x.v for x in ctx.input_data.values()) % 1000))

        flow.add(step(f"n{i}", dict[str, V], V, run), depends_on=[f"n{d}" for d in deps])
    return flow.commit()


_CONFIG = RuntimeConfig(telemetry=TelemetryConfig(enabled=False))
_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(spec=st.lists(entries, min_size=1, max_size=6), start=st.integers(0, 999))
async def test_random_chains_match_the_reference(spec: list[Any], start: int) -> None:
    async with open_runtime(_CONFIG) as rt:
        wf = await rt.spawn(build_chain(spec))
        result = await wf.start({"v": start})
    assert result.status == "success", result.error
    assert result.result == {"v": reference_chain(spec, start)}


@_SETTINGS
@given(nodes=dags(), start=st.integers(0, 999))
async def test_random_dags_match_the_reference(
    nodes: list[tuple[Op, list[int]]], start: int
) -> None:
    async with open_runtime(_CONFIG) as rt:
        wf = await rt.spawn(build_dag(nodes))
        result = await wf.start({"v": start})
    assert result.status == "success", result.error
    assert result.result == reference_dag(nodes, start)
