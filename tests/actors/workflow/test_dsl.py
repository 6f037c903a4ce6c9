"""commit(): the graph checks, and the description the HTTP API lists."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from actors.workflow import Workflow, WorkflowDefinitionError, step
from actors.workflow._describe import describe


class Value(msgspec.Struct):
    value: int


class Text(msgspec.Struct):
    text: str


class Pair(msgspec.Struct):
    a: Value
    b: Value


def _ident(ctx: Any) -> Any:
    return ctx.input_data


def make(id: str, inp: Any = Value, out: Any = Value) -> Any:
    return step(id, inp, out, _ident)


def test_chain_compiles_to_a_dag() -> None:
    flow = Workflow("w", Value, Any).then(make("a")).parallel([make("b"), make("c")]).commit()
    graph = flow.graph
    assert graph.nodes["b"].deps == ("a",) and graph.nodes["c"].deps == ("a",)
    (result,) = graph.outputs
    assert graph.nodes[result].deps == ("b", "c") and graph.nodes[result].join


def test_only_a_single_chain_is_linear() -> None:
    chain = Workflow("w", Value, Value).then(make("a")).then(make("b")).commit()
    assert chain.graph.linear
    fan = Workflow("w", Value, Any).then(make("a")).parallel([make("b"), make("c")]).commit()
    assert not fan.graph.linear
    dag = Workflow("w", Value, Any)
    dag.add(make("a")).add(make("b")).commit()
    assert not dag.graph.linear


def test_cycle_is_rejected_naming_the_steps() -> None:
    flow = Workflow("w", Value, Value)
    flow.add(make("a"), depends_on=["c"]).add(make("b"), depends_on=["a"])
    flow.add(make("c"), depends_on=["b"])
    with pytest.raises(WorkflowDefinitionError, match=r"cycle .*a -> .*b.* -> .*c"):
        flow.commit()


def test_missing_dependency_is_rejected() -> None:
    flow = Workflow("w", Value, Value).add(make("a"), depends_on=["ghost"])
    with pytest.raises(WorkflowDefinitionError, match="'a' depends on 'ghost'"):
        flow.commit()


def test_duplicate_step_id_is_rejected() -> None:
    flow = Workflow("w", Value, Value).then(make("a")).then(make("a"))
    with pytest.raises(WorkflowDefinitionError, match="'a' is used twice"):
        flow.commit()


def test_mismatched_schemas_name_both_steps_and_the_field() -> None:
    flow = Workflow("w", Value, Any).then(make("a", Value, Text)).then(make("b", Value, Value))
    with pytest.raises(WorkflowDefinitionError) as info:
        flow.commit()
    message = str(info.value)
    assert "'b'" in message and "'a'" in message and "$.value" in message


def test_wrong_field_type_is_rejected() -> None:
    class Wide(msgspec.Struct):
        value: str

    flow = Workflow("w", Value, Any).then(make("a", Value, Wide)).then(make("b"))
    with pytest.raises(WorkflowDefinitionError, match=r"`\$\.value`: expected int, got str"):
        flow.commit()


def test_workflow_input_and_output_are_checked() -> None:
    with pytest.raises(WorkflowDefinitionError, match="the workflow input"):
        Workflow("w", Text, Value).then(make("a")).commit()
    with pytest.raises(WorkflowDefinitionError, match="workflow output schema"):
        Workflow("w", Value, Text).then(make("a")).commit()


def test_join_input_needs_fields_named_by_the_dependencies() -> None:
    ok = Workflow("ok", Value, Pair).parallel([make("a"), make("b")]).then(make("p", Pair, Pair))
    ok.commit()
    bad = Workflow("bad", Value, Any).parallel([make("a"), make("x")]).then(make("p", Pair, Any))
    with pytest.raises(WorkflowDefinitionError, match=r"`\$\.b`: required but not produced"):
        bad.commit()


def test_foreach_needs_a_list() -> None:
    with pytest.raises(WorkflowDefinitionError, match="foreach step 'a' needs a list"):
        Workflow("w", Value, Any).foreach(make("a")).commit()
    Workflow("w2", list[Value], list[Value]).foreach(make("a"), concurrency=2).commit()


def test_loop_step_must_accept_its_own_output() -> None:
    flow = Workflow("w", Value, Any).dowhile(make("a", Value, Text), lambda ctx: False)
    with pytest.raises(WorkflowDefinitionError, match="its own output"):
        flow.commit()


def test_mixing_forms_and_editing_after_commit_are_refused() -> None:
    flow = Workflow("w", Value, Value).then(make("a"))
    with pytest.raises(WorkflowDefinitionError, match="not both"):
        flow.add(make("b"))
    flow.commit()
    with pytest.raises(WorkflowDefinitionError, match="committed"):
        flow.then(make("c"))
    with pytest.raises(WorkflowDefinitionError, match="has no steps"):
        Workflow("empty").commit()


def test_nested_workflow_is_checked_like_a_step() -> None:
    inner = Workflow("inner", Value, Value).then(make("i1")).commit()
    Workflow("outer", Value, Value).then(make("o1")).then(inner).commit()
    with pytest.raises(WorkflowDefinitionError, match="nested workflow 'inner'"):
        Workflow("bad", Value, Any).then(make("t", Value, Text)).then(inner).commit()


def test_description_lists_steps_graph_and_schemas() -> None:
    flow = Workflow("w", Value, Any, description="demo")
    flow.then(make("a")).parallel([make("b"), make("c")]).commit()
    info = describe(flow.graph, flow.description)
    assert set(info.steps) == {"a", "b", "c"}
    assert info.input_schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert info.step_graph[0] == {
        "type": "step",
        "step": {"id": "a", "description": "", "canSuspend": False},
    }
    assert info.step_graph[1]["type"] == "parallel"
    assert [s["step"]["id"] for s in info.step_graph[1]["steps"]] == ["b", "c"]
    encoded = msgspec.json.decode(msgspec.json.encode(info))
    assert "stepGraph" in encoded and "inputSchema" in encoded
