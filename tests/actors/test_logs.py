"""The in-memory log transport on its own."""

from __future__ import annotations

import logging

import trio

from actors.logs import LogQuery, LogTransport, current_run_id, run_scope


async def test_records_in_a_run_scope_carry_its_run_id_also_in_child_tasks() -> None:
    transport = LogTransport(capacity=10)
    log = logging.getLogger("tests.logs.scope")
    log.addHandler(transport)
    log.setLevel(logging.INFO)
    try:
        with run_scope("outer"):
            log.info("in the run")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_log_in_child, log)
        log.info("after the run")
    finally:
        log.removeHandler(transport)
        log.setLevel(logging.NOTSET)
    assert current_run_id.get() is None
    records = transport.page(LogQuery())["logs"]
    assert [(r["msg"], r.get("runId")) for r in records] == [
        ("in the run", "outer"),
        ("in a child task", "outer"),
        ("after the run", None),
    ]


async def _log_in_child(log: logging.Logger) -> None:
    await trio.lowlevel.checkpoint()
    log.info("in a child task")


def test_an_exception_is_kept_with_its_traceback() -> None:
    transport = LogTransport()
    log = logging.getLogger("tests.logs.exc")
    log.addHandler(transport)
    try:
        try:
            _boom()
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(transport)
    (record,) = transport.page(LogQuery(level="error"))["logs"]
    assert "ValueError: boom" in record["err"]


def _boom() -> None:
    raise ValueError("boom")
