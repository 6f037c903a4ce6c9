from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import trio

from actors._jsonschema import DRAFT_07
from actors.demo.workflows import approval, three_step
from actors.stores import SqliteStore
from actors.workflow import StepContext, Workflow, step
from tests.actors.server.conftest import OpenServer

WIRE = Path(__file__).resolve().parents[2] / "fixtures" / "mastra-wire"


@pytest.fixture
async def http(open_server: OpenServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with open_server() as (t, client):
        db = str(tmp_path / "wf.db")
        await t.rt.spawn(partial(SqliteStore, db, synchronous="normal"), name="store", kind="store")
        await t.rt.spawn(three_step.deploy(store="store"))
        await t.rt.spawn(approval.deploy(store="store"))
        yield client


async def _create(http: httpx.AsyncClient, workflow: str) -> str:
    response = await http.post(f"/api/workflows/{workflow}/create-run", json={})
    assert response.status_code == 200
    run_id: str = response.json()["runId"]
    return run_id


async def _suspended_run(http: httpx.AsyncClient) -> str:
    run_id = await _create(http, "approval")
    response = await http.post(
        f"/api/workflows/approval/start-async?runId={run_id}", json={"inputData": {"item": "i-7"}}
    )
    assert response.json()["status"] == "suspended"
    return run_id


async def test_lists_and_describes_workflows(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/api/workflows")).json()
    assert set(listed) == {"three-step", "approval"}
    one = (await http.get("/api/workflows/approval")).json()
    assert one == listed["approval"]
    assert one["description"] == "request-approval (suspends) -> finalize"
    request_step = one["steps"]["request-approval"]
    resume_schema = json.loads(request_step["resumeSchema"])["json"]
    assert resume_schema["required"] == ["approved"]
    assert one["allSteps"]["finalize"]["isWorkflow"] is False
    assert [e["step"]["id"] for e in one["stepGraph"]] == ["request-approval", "finalize"]
    assert one["stepGraph"][0]["step"]["canSuspend"] is True
    input_schema = json.loads(one["inputSchema"])["json"]
    assert input_schema["properties"] == {"item": {"type": "string"}}
    missing = await http.get("/api/workflows/nope")
    assert (missing.status_code, missing.json()) == (404, {"error": "Workflow not found"})


async def test_start_async_with_and_without_run_id(http: httpx.AsyncClient) -> None:
    run_id = await _create(http, "three-step")
    response = await http.post(
        f"/api/workflows/three-step/start-async?runId={run_id}", json={"inputData": {"value": 5}}
    )
    body = response.json()
    assert body["status"] == "success"
    assert body["runId"] == run_id
    assert body["result"]["message"] == "result=12"
    assert body["steps"]["input"] == {"value": 5}
    assert body["steps"]["double"]["output"] == {"value": 12}
    assert "payload" not in body["steps"]["double"]
    assert body["stepExecutionPath"] == ["add-one", "double", "format"]
    fresh = await http.post(
        "/api/workflows/three-step/start-async", json={"inputData": {"value": 1}}
    )
    assert fresh.json()["result"]["message"] == "result=4"
    assert fresh.json()["runId"] not in ("", run_id)


async def test_bad_input_and_unknown_names(http: httpx.AsyncClient) -> None:
    bad = await http.post(
        "/api/workflows/three-step/start-async", json={"inputData": {"value": "x"}}
    )
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("Invalid input data: \n- value: ")
    assert bad.json()["issues"][0]["field"] == "value"
    garbage = await http.post("/api/workflows/three-step/start-async", content=b"{nope")
    assert garbage.status_code == 400
    assert garbage.json()["issues"][0]["field"] == "body"
    wrong = await http.post("/api/workflows/three-step/start-async", json={"inputData": 1, "x": 2})
    assert wrong.status_code == 400
    nope = await http.post("/api/workflows/nope/start-async", json={"inputData": {}})
    assert (nope.status_code, nope.json()) == (404, {"error": "Workflow not found"})


async def test_suspend_resume_and_resume_again(http: httpx.AsyncClient) -> None:
    run_id = await _create(http, "approval")
    started = await http.post(
        f"/api/workflows/approval/start-async?runId={run_id}",
        json={"inputData": {"item": "invoice-7"}},
    )
    body = started.json()
    assert body["status"] == "suspended"
    assert body["suspended"] == [["request-approval"]]
    payload = {"reason": "approval required", "item": "invoice-7"}
    assert body["suspendPayload"] == {"request-approval": payload}
    url = f"/api/workflows/approval/resume-async?runId={run_id}"
    bad = await http.post(url, json={"step": "request-approval", "resumeData": {"approved": 3}})
    assert bad.status_code == 400
    assert bad.json()["issues"][0]["field"] == "approved"
    resume = {"step": "request-approval", "resumeData": {"approved": True, "approver": "ann"}}
    done = (await http.post(url, json=resume)).json()
    assert done["status"] == "success"
    assert done["result"] == {"status": "invoice-7 approved by ann"}
    assert done["steps"]["request-approval"]["resumePayload"] == resume["resumeData"]
    again = await http.post(url, json=resume)
    assert again.status_code == 409
    assert again.json() == {"error": "This workflow run was not suspended"}


async def test_resume_errors(http: httpx.AsyncClient) -> None:
    body = {"step": "request-approval", "resumeData": {"approved": True}}
    unknown = await http.post("/api/workflows/approval/resume-async?runId=no-such-run", json=body)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Workflow run not found"})
    no_run = await http.post("/api/workflows/approval/resume-async", json=body)
    assert no_run.status_code == 400
    assert no_run.json()["issues"][0]["field"] == "runId"


async def _wait_status(http: httpx.AsyncClient, path: str, status: str) -> dict[str, Any]:
    with trio.fail_after(5):
        while True:
            run: dict[str, Any] = (await http.get(path)).json()
            if run.get("status") == status:
                return run
            await trio.sleep(0.01)


async def test_background_start_and_resume(http: httpx.AsyncClient) -> None:
    run_id = await _create(http, "approval")
    base = "/api/workflows/approval"
    started = await http.post(f"{base}/start?runId={run_id}", json={"inputData": {"item": "b"}})
    assert started.json() == {"message": "Workflow run started"}
    run = await _wait_status(http, f"{base}/runs/{run_id}", "suspended")
    assert run["payload"] == {"item": "b"}
    assert run["suspendedPaths"] == {"request-approval": [0]}
    assert run["steps"]["request-approval"]["payload"] == {"item": "b"}
    resumed = await http.post(
        f"{base}/resume?runId={run_id}", json={"resumeData": {"approved": False}}
    )
    assert resumed.json() == {"message": "Workflow run resumed"}
    run = await _wait_status(http, f"{base}/runs/{run_id}", "success")
    assert run["result"] == {"status": "b rejected by unknown"}
    assert run["workflowName"] == "approval"
    assert run["createdAt"].endswith("Z")
    missing = await http.get(f"{base}/runs/nope")
    assert (missing.status_code, missing.json()) == (404, {"error": "Workflow run not found"})
    no_run = await http.post(f"{base}/start", json={"inputData": {"item": "b"}})
    assert no_run.status_code == 400


async def test_list_runs_pages_and_filters(http: httpx.AsyncClient) -> None:
    ids = [await _suspended_run(http) for _ in range(3)]
    page = (await http.get("/api/workflows/approval/runs?perPage=2&page=0")).json()
    assert page["total"] == 3
    assert len(page["runs"]) == 2
    second = (await http.get("/api/workflows/approval/runs?perPage=2&page=1")).json()
    listed = [r["runId"] for r in page["runs"] + second["runs"]]
    assert sorted(listed) == sorted(ids)
    by_offset = (await http.get("/api/workflows/approval/runs?limit=2&offset=2")).json()
    assert [r["runId"] for r in by_offset["runs"]] == [r["runId"] for r in second["runs"]]
    entry = page["runs"][0]
    assert entry["workflowName"] == "approval"
    assert entry["snapshot"]["status"] == "suspended"
    assert entry["snapshot"]["context"]["input"] == {"item": "i-7"}
    suspended = (await http.get("/api/workflows/approval/runs?status=suspended")).json()
    assert suspended["total"] == 3
    future = (await http.get("/api/workflows/approval/runs?fromDate=2999-01-01T00:00:00Z")).json()
    assert future == {"runs": [], "total": 0}
    queries = [("perPage=0", "perPage"), ("page=x", "page"), ("limit=0", "limit")]
    queries += [("offset=-1", "offset"), ("toDate=soon", "toDate")]
    for query, field in [*queries, ("status=sleepy", "status")]:
        bad = await http.get(f"/api/workflows/approval/runs?{query}")
        assert bad.status_code == 400
        assert bad.json()["issues"][0]["field"] == field
    past = (await http.get("/api/workflows/approval/runs?toDate=2000-01-01T00:00:00")).json()
    assert past["total"] == 0
    recent = (await http.get("/api/workflows/approval/runs?fromDate=2000-01-01T00:00:00Z")).json()
    assert recent["total"] == 3


async def test_cancel_a_suspended_run(http: httpx.AsyncClient) -> None:
    run_id = await _suspended_run(http)
    base = "/api/workflows/approval/runs"
    canceled = await http.post(f"{base}/{run_id}/cancel")
    assert canceled.json() == {"message": "Workflow run cancelled"}
    assert (await http.get(f"{base}/{run_id}")).json()["status"] == "canceled"
    missing = await http.post(f"{base}/nope/cancel")
    assert missing.status_code == 404


def _records(data: bytes) -> list[dict[str, Any]]:
    return [msgspec.json.decode(part) for part in data.split(b"\x1e") if part]


async def test_stream_records(http: httpx.AsyncClient) -> None:
    run_id = await _create(http, "three-step")
    response = await http.post(
        f"/api/workflows/three-step/stream?runId={run_id}", json={"inputData": {"value": 2}}
    )
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content.endswith(b"\x1e")
    records = _records(response.content)
    assert [r["type"] for r in records] == [
        "workflow-start",
        *["workflow-step-start", "workflow-step-result"] * 3,
        "workflow-finish",
    ]
    assert all(r["runId"] == run_id and r["from"] == "WORKFLOW" for r in records)
    finish = records[-1]["payload"]
    assert finish["workflowStatus"] == "success"
    assert finish["finalWorkflowResult"]["message"] == "result=6"
    bad = await http.post("/api/workflows/three-step/stream", json={"inputData": {"value": "x"}})
    assert bad.status_code == 400
    assert bad.json()["issues"][0]["field"] == "value"


class N(msgspec.Struct):
    n: int


async def test_stream_sends_records_as_produced(
    open_server: OpenServer,
) -> None:
    gate = trio.Event()

    def first(ctx: StepContext[N]) -> N:
        return N(ctx.input_data.n + 1)

    async def held(ctx: StepContext[N]) -> N:
        await gate.wait()
        return ctx.input_data

    flow = Workflow("gated", N, N).then(step("first", N, N, first)).then(step("held", N, N, held))
    async with open_server() as (t, client):
        await t.rt.spawn(flow.commit().deploy())
        seen: list[dict[str, Any]] = []
        request = client.build_request(
            "POST", "/api/workflows/gated/stream", json={"inputData": {"n": 1}}
        )
        response = await client.send(request, stream=True)
        chunks = response.aiter_bytes()
        buffer = b""
        with trio.fail_after(5):
            while not any(r["payload"].get("id") == "held" for r in seen):
                buffer += await anext(chunks)
                seen = _records(buffer)
        assert not gate.is_set()
        assert "workflow-finish" not in [r["type"] for r in seen]
        gate.set()
        with trio.fail_after(5):
            async for chunk in chunks:
                buffer += chunk
        await response.aclose()
        assert _records(buffer)[-1]["type"] == "workflow-finish"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("start-async", b"[]"),
        ("start-async", b"null"),
        ("start-async", b'{"inputData": {"value": 1}, "requestContext": 5}'),
        ("start-async", b'{"inputData": []}'),
        ("start-async", b'{"inputData": {"value": 1}, "resourceId": 7}'),
        ("stream", b'{"inputData": null}'),
        ("stream", b"\xff\xfe"),
        ("resume-async?runId=r", b'{"step": 3}'),
        ("resume-async?runId=r", b'{"step": ["a", 1]}'),
        ("resume?runId=r", b'"text"'),
        ("start?runId=r", b'{"inputData": {"value": "x"}}'),
    ],
)
async def test_bad_bodies_get_400(http: httpx.AsyncClient, route: str, body: bytes) -> None:
    response = await http.post(f"/api/workflows/three-step/{route}", content=body)
    assert response.status_code == 400, response.text
    assert response.json()["issues"]


def _capture_schemas(name: str) -> dict[str, Any]:
    text = (WIRE / name).read_text(encoding="utf-8")
    return dict(json.loads(text.split("\n<\n", 1)[1]))


def _schemas(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {key: workflow[key] for key in ("inputSchema", "outputSchema")}
    for step_id, entry in workflow["steps"].items():
        found |= {f"{step_id}.{k}": v for k, v in entry.items() if k.endswith("Schema")}
    return {key: json.loads(text)["json"] for key, text in found.items()}


def _mastra_shape(schema: dict[str, Any]) -> dict[str, Any]:
    shape = {k: v for k, v in schema.items() if k not in ("description", "additionalProperties")}
    shape["properties"] = {
        name: {k: v for k, v in prop.items() if k != "default"}
        for name, prop in schema["properties"].items()
    }
    return shape


async def test_workflow_schemas_are_inlined_draft_07_like_mastra(http: httpx.AsyncClient) -> None:
    captured = _capture_schemas("workflows-list.txt")
    ours = (await http.get("/api/workflows")).json()
    single = (await http.get("/api/workflows/approval")).json()
    assert _schemas(single) == _schemas(ours["approval"])
    for workflow in ("three-step", "approval"):
        expected, got = _schemas(captured[workflow]), _schemas(ours[workflow])
        assert set(got) == set(expected)
        for key, schema in got.items():
            text = json.dumps(schema)
            assert "$ref" not in text and "$defs" not in text and '"title"' not in text, key
            assert next(iter(schema.items())) == ("$schema", DRAFT_07), key
            assert _mastra_shape(schema) == _mastra_shape(expected[key]), key


async def test_input_that_misses_a_field_gets_400_naming_it(http: httpx.AsyncClient) -> None:
    for route in ("start-async", "stream", "start?runId=missing-field"):
        response = await http.post(f"/api/workflows/three-step/{route}", json={"inputData": {}})
        assert response.status_code == 400, route
        assert response.json()["error"].startswith("Invalid input data: \n- value: "), route
        assert response.json()["issues"][0]["field"] == "value", route
        assert response.json()["issues"][0]["path"] == "$.value", route
    absent = await http.post("/api/workflows/three-step/start-async", json={})
    assert absent.status_code == 400
    assert absent.json()["issues"][0]["field"] == "inputData"


async def test_wrong_type_in_background_start_gets_400_and_no_run(
    http: httpx.AsyncClient,
) -> None:
    run_id = await _create(http, "three-step")
    base = "/api/workflows/three-step"
    bad = await http.post(f"{base}/start?runId={run_id}", json={"inputData": {"value": "x"}})
    assert bad.status_code == 400
    assert bad.json()["issues"][0]["field"] == "value"
    runs = (await http.get(f"{base}/runs?status=running")).json()
    assert runs["total"] == 0


async def test_unknown_input_fields_are_dropped_as_mastra_does(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/workflows/three-step/start-async", json={"inputData": {"value": 1, "extra": True}}
    )
    assert response.status_code == 200
    assert response.json()["steps"]["input"] == {"value": 1}
    assert response.json()["result"]["message"] == "result=4"


@pytest.mark.parametrize("route", ["resume-async", "resume"])
async def test_resuming_a_run_that_is_not_suspended_is_409(
    http: httpx.AsyncClient, route: str
) -> None:
    captured = (WIRE / "workflow-approval-resume-again.txt").read_text(encoding="utf-8")
    mastra_body = json.loads(captured.split("\n<\n", 1)[1])
    assert "500 Internal Server Error" in captured
    finished = await _suspended_run(http)
    base = "/api/workflows/approval"
    resume = {"step": "request-approval", "resumeData": {"approved": True}}
    assert (await http.post(f"{base}/resume-async?runId={finished}", json=resume)).is_success
    again = await http.post(f"{base}/{route}?runId={finished}", json=resume)
    assert (again.status_code, again.json()) == (409, mastra_body)
    assert (await http.get(f"{base}/runs/{finished}")).json()["status"] == "success"
