from __future__ import annotations

import inspect
import keyword
import threading
from typing import Any, Literal

import msgspec
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from actors.tools import ExecuteTool, Tool, ToolActor, ToolContext, ToolRef, tool
from runtime import SupervisionConfig, UnhandledMessage
from runtime.testing import open_test_runtime


class Sum(msgspec.Struct):
    sum: float


@tool(id="add")
def add(a: float, b: float) -> Sum:
    """Adds two numbers and returns their sum

    Args:
        a: first addend
        b: second addend
    """
    return Sum(sum=a + b)


def test_schema_and_description_come_from_hints_and_docstring() -> None:
    assert add.description == "Adds two numbers and returns their sum"
    assert add.input_schema == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "a": {"description": "first addend", "type": "number"},
            "b": {"description": "second addend", "type": "number"},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert add.output_schema is not None
    assert add.output_schema["properties"] == {"sum": {"type": "number"}}


async def test_valid_call_returns_json_ready_value() -> None:
    result = await add.call({"a": 2, "b": 3}, call_id="c1")
    assert result.ok and result.value == {"sum": 5.0} and result.call_id == "c1"


async def test_invalid_call_lists_every_bad_field_for_the_model() -> None:
    result = await add.call({"a": "x", "c": 1})
    assert not result.ok and result.error is not None
    assert result.error.kind == "validation"
    fields = {e.field: e.message for e in result.error.validation_errors}
    assert fields == {
        "a": "Invalid input: expected number, received string",
        "b": "Invalid input: expected number, received undefined",
        "c": "Unrecognized key",
    }
    assert result.error.message.startswith("Tool input validation failed for add.")
    assert '"a": "x"' in result.error.message
    not_object = await add.call(["nope"])
    assert not_object.error is not None and "expected object" in not_object.error.message


async def test_exceptions_and_timeouts_become_error_results() -> None:
    @tool(timeout=0.05)
    async def slow() -> str:
        """Never finishes in time."""
        await trio.sleep(10)
        return "late"

    @tool
    def broken(x: int) -> int:
        """Always fails."""
        raise ValueError(f"bad {x}")

    late = await slow.call({})
    assert late.error is not None and late.error.kind == "timeout"
    failed = await broken.call({"x": 3})
    assert failed.error is not None and failed.error.kind == "execution"
    assert "ValueError: bad 3" in failed.error.message


class Query(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    limit: int = 3


async def test_explicit_input_struct_and_context_parameter() -> None:
    @tool(input=Query)
    async def search(query: Query, ctx: ToolContext) -> list[str]:
        """Search things."""
        return [f"{query.text}:{i}:{ctx.request_context['user']}" for i in range(query.limit)]

    assert search.input_schema["required"] == ["text"]
    assert "ctx" not in search.input_schema["properties"]
    result = await search.call({"text": "q", "limit": 2}, request_context={"user": "u1"})
    assert result.value == ["q:0:u1", "q:1:u1"]


async def test_sync_tools_run_in_worker_threads() -> None:
    @tool
    def where() -> bool:
        """Reports whether it runs on the main thread."""
        return threading.current_thread() is threading.main_thread()

    assert (await where.call({})).value is False

    @tool(blocking=False)
    def inline() -> bool:
        """Reports whether it runs on the main thread."""
        return threading.current_thread() is threading.main_thread()

    assert (await inline.call({})).value is True


async def test_tool_actor_registers_by_kind_and_serves_calls() -> None:
    async with open_test_runtime() as t:
        ref = await t.rt.spawn(add)
        assert isinstance(ref, ToolRef)
        assert t.rt.lookup("add", kind="tool") is ref.ref
        assert (await ref.info()).input_schema == add.input_schema
        assert (await ref.execute({"a": 1, "b": 1})).value == {"sum": 2.0}


async def test_parallel_calls_finish_in_the_time_of_the_slowest() -> None:
    @tool(concurrency=4)
    async def nap(seconds: float) -> float:
        """Sleeps."""
        await trio.sleep(seconds)
        return seconds

    async with open_test_runtime() as t:
        ref = await t.rt.spawn(nap)
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            for s in (0.1, 0.2, 0.3, 0.2):
                nursery.start_soon(ref.execute, {"seconds": s})
        assert trio.current_time() - start < 0.45


async def test_a_message_the_tool_does_not_handle_fails_alone() -> None:
    @tool
    async def nap2(seconds: float) -> float:
        """Sleeps."""
        await trio.sleep(seconds)
        return seconds

    async with open_test_runtime() as t:
        ref = await t.rt.spawn(nap2)
        results: list[Any] = []

        async def call() -> None:
            results.append(await ref.execute({"seconds": 0.2}))

        with trio.fail_after(3):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(call)
                await trio.sleep(0.05)
                with pytest.raises(UnhandledMessage):
                    await ref.ref.ask("not a tool message")
        assert results[0].ok
        assert t.rt.stats(kind="tool")["nap2"].restarts == 0


async def test_a_stopped_tool_actor_gives_its_caller_an_error_not_a_hang() -> None:
    @tool
    async def nap3(seconds: float) -> float:
        """Sleeps."""
        await trio.sleep(seconds)
        return seconds

    policy = SupervisionConfig(grace=0.1)
    async with open_test_runtime() as t:
        ref = ToolRef(await t.rt.spawn(ToolActor, nap3, name="nap3b", supervision=policy))
        results: list[Any] = []

        async def call() -> None:
            results.append(await ref.execute({"seconds": 30}))

        with trio.fail_after(3):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(call)
                await trio.sleep(0.05)
                await t.rt.stop(ref.ref)
        assert results[0].error.kind == "unavailable"


# -- hypothesis: schemas from generated signatures -----------------------------------------

HINTS: list[tuple[Any, str, st.SearchStrategy[Any]]] = [
    (int, "integer", st.integers(-1000, 1000)),
    (float, "number", st.floats(allow_nan=False, allow_infinity=False)),
    (str, "string", st.text(max_size=5)),
    (bool, "boolean", st.booleans()),
    (list[int], "array", st.lists(st.integers(0, 9), max_size=3)),
    (Literal["x", "y"], "enum", st.sampled_from(["x", "y"])),
]
names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)
signatures = st.lists(
    st.tuples(names, st.integers(0, len(HINTS) - 1), st.booleans()),
    max_size=6,
    unique_by=lambda p: p[0],
)


def _function(params: list[tuple[str, int, bool]]) -> Any:
    def fn(**kwargs: Any) -> Any:
        return kwargs

    ordered = sorted(params, key=lambda p: p[2])  # parameters without defaults first
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=HINTS[i][0],
                default=inspect.Parameter.empty if not has_default else None,
            )
            for name, i, has_default in ordered
        ]
    )
    fn.__annotations__ = {name: HINTS[i][0] | None if d else HINTS[i][0] for name, i, d in params}
    fn.__doc__ = "Generated."
    return fn


@given(signatures, st.data())
def test_schema_from_any_signature_matches_and_validates(
    params: list[tuple[str, int, bool]], data: st.DataObject
) -> None:
    generated: Tool = tool(id="generated")(_function(params))
    schema = generated.input_schema
    assert set(schema["properties"]) == {p[0] for p in params}
    assert set(schema.get("required", [])) == {name for name, _, d in params if not d}
    for name, i, has_default in params:
        prop = schema["properties"][name]
        expected = HINTS[i][1]
        variants = prop.get("anyOf", [prop]) if has_default else [prop]
        assert any(
            v.get("type") == expected or (expected == "enum" and "enum" in v) for v in variants
        )
    valid = {name: data.draw(HINTS[i][2]) for name, i, _ in params}
    assert not isinstance(generated.validate(valid), list)
    wrong = [(n, i) for n, i, _ in params if HINTS[i][1] not in {"string", "enum"}]
    if wrong:
        name, _ = wrong[0]
        errors = generated.validate({**valid, name: "not the right type"})
        assert isinstance(errors, list) and [e.field for e in errors] == [name]


def test_execute_tool_message_round_trips() -> None:
    msg = ExecuteTool(args={"a": 1}, call_id="c", request_context={"k": [1, 2]})
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(msg), type=ExecuteTool) == msg


class Node(msgspec.Struct):
    """A tree node (a type that refers to itself)."""

    name: str
    children: list[Node] = []


def test_a_recursive_input_type_keeps_its_references() -> None:
    @tool
    def count(root: Node) -> int:
        """Counts the nodes of a tree."""
        return 1 + len(root.children)

    root = count.input_schema["properties"]["root"]
    assert root["properties"]["children"]["items"] == {"$ref": "#/definitions/Node"}
    assert "Node" in count.input_schema["definitions"]
