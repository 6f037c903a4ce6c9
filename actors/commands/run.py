"""``mastra run WORKFLOW --input JSON --config CONFIG``: run a workflow, print its events.

Starts the config's actors (not its HTTP servers), starts a run of the workflow and prints
each event as one JSON line (Mastra's ``{type, runId, from, payload}`` records) as it
happens, then the run result (Mastra's ``{status, steps, input, result?, error?,
suspended?, suspendPayload?, runId}``) as the last line.

Exit codes: 0 the run succeeded (or bailed), 1 it failed or was canceled, 2 a usage or
config error (bad JSON, input failing the workflow's input schema: the message names the
field; unknown workflow or run), 3 the run suspended: stderr says which step waits and the
command that resumes it (``--resume RUN_ID --input RESUME_DATA``; snapshots must be kept in
a store actor for a run to outlive the process).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import msgspec
import trio

from actors.commands._common import (
    UsageError,
    command_parser,
    load_app_config,
    quiet_logging,
    run_command,
    threaded_writer,
    without_servers,
)
from actors.workflow import InvalidRunState, RunNotFound, RunResult, SchemaViolation, WorkflowRef
from runtime import Mastra, configure_logging, open_runtime

__all__ = ["EXIT_SUSPENDED", "exit_code", "main", "parse_json_option"]

EXIT_SUSPENDED = 3
"""The exit code of a run that ended suspended (waiting for ``--resume``)."""

EXAMPLES = [
    "mastra run three-step --config config/default.toml --input '{\"value\": 5}'",
    'mastra run approval --config config/default.toml --input \'{"item": "laptop"}\'',
    "mastra run approval --config config/default.toml --resume RUN_ID "
    "--input '{\"approved\": true}'",
    "mastra run three-step --config config/default.toml --input @input.json",
]
Emit = Callable[[Any], Awaitable[None]]
_json = msgspec.json.Encoder()


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "run",
        "Run a workflow of a config: print each event as a JSON line as it happens, then the "
        "run result as JSON. Exit 0 success, 1 failed or canceled, 2 usage or config error "
        "(e.g. input failing the input schema), 3 suspended (resume it with --resume).",
        EXAMPLES,
    )
    parser.add_argument("workflow", help="id of the workflow to run")
    parser.add_argument("--config", required=True, help="path of the TOML configuration file")
    parser.add_argument(
        "--input",
        default="{}",
        help="input data (resume data with --resume) as JSON, or @FILE to read it from a file "
        "(default: {})",
    )
    parser.add_argument("--resume", metavar="RUN_ID", help="resume this suspended run")
    parser.add_argument(
        "--step",
        help="with --resume: the suspended step (nested: outer/inner); default: the only one",
    )
    parser.add_argument("--run-id", help="id of the new run (default: a new UUID)")
    parser.add_argument("--resource", help="resource (user) id recorded with the run")
    parser.add_argument("--verbose", action="store_true", help="show the runtime's INFO logs")
    return parser


def parse_json_option(text: str, option: str = "--input") -> Any:
    """Decode a JSON option value, or the file named by ``@FILE``.

    Raises ``UsageError`` naming the option and where the JSON is invalid. Blocking (may
    read a file): call it before entering Trio.
    """
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {text[1:]}: {exc.strerror}") from None
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise UsageError(f"{option}: invalid JSON: {exc}") from None


def exit_code(result: RunResult) -> int:
    """0 for success or bailed, 3 for suspended, 1 for anything else (failed, canceled)."""
    if result.status in ("success", "bailed"):
        return 0
    return EXIT_SUSPENDED if result.status == "suspended" else 1


def _workflow(rt: Mastra, name: str) -> WorkflowRef:
    ref = rt.lookup(name, kind="workflow")
    if ref is None:
        known = ", ".join(sorted(rt.actors("workflow"))) or "none"
        raise UsageError(f"unknown workflow {name!r} (known workflows: {known})")
    return WorkflowRef(ref)


async def _start(wf: WorkflowRef, value: Any, args: argparse.Namespace, emit: Emit) -> RunResult:
    """Stream a new run's events through ``emit``; returns its result once it stopped."""
    run_id: str | None = None
    async with wf.stream(value, run_id=args.run_id, resource_id=args.resource) as events:
        async for event in events:
            run_id = event.run_id
            await emit(event.to_mastra())
    if run_id is None:  # the stream ends only after workflow-start was sent
        raise RuntimeError(f"workflow {wf.id!r} sent no events for the run")
    return await wf.wait(run_id)


async def _resume(wf: WorkflowRef, value: Any, args: argparse.Namespace) -> RunResult:
    step: str | list[str] | None = args.step
    if args.step is not None and "/" in args.step:
        step = args.step.split("/")
    return await wf.resume(args.resume, value, step=step)


def _suspended_hint(args: argparse.Namespace, result: RunResult) -> str:
    steps = ", ".join("/".join(path) for path in result.suspended)
    payload = _json.encode(result.suspend_payload).decode()
    command = ["mastra", "run", args.workflow, "--config", args.config]
    command += ["--resume", result.run_id]
    if len(result.suspended) > 1:
        command += ["--step", "/".join(result.suspended[0])]
    resume = shlex.join(command) + " --input RESUME_JSON"
    return f"run {result.run_id} suspended at {steps} with {payload}; resume it with: {resume}"


async def _run(args: argparse.Namespace, value: Any, stdout: IO[str]) -> int:
    config = quiet_logging(without_servers(load_app_config(args.config)), args.verbose)
    configure_logging(config.logging)
    limiter = trio.CapacityLimiter(1)

    write = threaded_writer(stdout, limiter)

    async def emit(record: Any) -> None:
        await write(_json.encode(record).decode() + "\n")

    async with open_runtime(config) as rt:
        wf = _workflow(rt, args.workflow)
        try:
            if args.resume is not None:
                result = await _resume(wf, value, args)
            else:
                result = await _start(wf, value, args, emit)
        except SchemaViolation as exc:
            raise UsageError(str(exc)) from None
        except (RunNotFound, InvalidRunState) as exc:
            raise UsageError(f"run {args.resume or args.run_id}: {exc}") from None
        await emit(result.to_mastra())
    if result.status == "suspended":
        print(f"mastra run: {_suspended_hint(args, result)}", file=sys.stderr)
    elif result.error is not None:
        print(f"mastra run: run {result.run_id} {result.status}: {result.error}", file=sys.stderr)
    return exit_code(result)


def main(argv: list[str] | None = None, *, stdout: IO[str] | None = None) -> int:
    """Run ``mastra run``; returns the exit code (see the module docstring)."""

    def body(args: argparse.Namespace) -> int:
        if args.step is not None and args.resume is None:
            raise UsageError("--step: only valid with --resume")
        value = parse_json_option(args.input)
        return trio.run(_run, args, value, stdout or sys.stdout)

    return run_command("run", _parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
