"""``WorkflowRef``, the typed handle to a workflow actor, and the spawnable deployment."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from actors.workflow._persist import MemorySnapshots
from actors.workflow._snapshot import RunSnapshot, RunStatus
from actors.workflow.messages import (
    CancelRun,
    CreateRun,
    DescribeWorkflow,
    GetRun,
    ListRuns,
    ResumeRun,
    RunEvent,
    RunPage,
    RunResult,
    StartRun,
    StreamRun,
    WaitRun,
    WatchRun,
    WorkflowInfo,
)
from runtime import ActorRef, Spawner

if TYPE_CHECKING:
    from actors.workflow.dsl import Workflow

__all__ = ["WorkflowDeployment", "WorkflowRef"]


@dataclass(frozen=True, eq=False)
class WorkflowDeployment:
    """A committed workflow plus where its snapshots go; ``await rt.spawn(deployment)``.

    ``store`` names a running store actor (kind ``store``); ``None`` keeps snapshots in
    ``memory`` (one object per deployment, so they survive the actor's restarts but not the
    process). ``keep_runs_for`` (seconds): finished runs are deleted that long after their
    last save (``None`` keeps them). ``max_active_runs``: how many runs may be active at
    once; starts and resumes beyond it wait for a run to end. ``lease_for`` (seconds): with
    a store that keeps leases (Postgres), how long a node that stopped renewing keeps its
    runs before another node takes them over. The actor is named after the workflow id,
    kind ``workflow``.
    """

    workflow: Workflow
    store: str | None = None
    step_concurrency: int = 256
    memory: MemorySnapshots = field(default_factory=MemorySnapshots)
    keep_runs_for: float | None = None
    max_active_runs: int = 10_000
    lease_for: float = 30.0

    async def spawn_in(self, spawner: Spawner) -> WorkflowRef:
        """Spawn the workflow actor (and its step actors); returns its ``WorkflowRef``."""
        from actors.workflow.run import WorkflowActor

        actor = functools.partial(
            WorkflowActor,
            step_concurrency=self.step_concurrency,
            keep_runs_for=self.keep_runs_for,
            max_active_runs=self.max_active_runs,
            lease_for=self.lease_for,
        )
        ref = await spawner.spawn(
            actor,
            self.workflow,
            self.store,
            None if self.store is not None else self.memory,
            name=self.workflow.id,
            kind="workflow",
            mailbox=1024,
        )
        return WorkflowRef(ref)


class WorkflowRef:
    """A handle to a running workflow actor.

    Errors: ``SchemaViolation`` (bad input or resume data, names the field), ``RunNotFound``,
    ``InvalidRunState``; ``ActorStopped``/``ActorCrashed`` if the actor went away.
    Cancelling a call that waits for a run does not cancel the run (use ``cancel``).
    """

    __slots__ = ("ref",)

    def __init__(self, ref: ActorRef) -> None:
        self.ref = ref

    @property
    def id(self) -> str:
        """The workflow id."""
        return self.ref.name

    async def create_run(self, run_id: str | None = None) -> str:
        """Reserve a run id (a new UUID unless given)."""
        created: str = await self.ref.ask(CreateRun(run_id=run_id))
        return created

    async def start(
        self,
        input: Any = None,
        *,
        run_id: str | None = None,
        resource_id: str | None = None,
        request_context: dict[str, Any] | None = None,
    ) -> RunResult:
        """Start a run and wait until it succeeds, fails, bails, suspends or is canceled."""
        msg = StartRun(
            input=input,
            run_id=run_id,
            resource_id=resource_id,
            request_context=dict(request_context or {}),
        )
        result: RunResult = await self.ref.ask(msg)
        return result

    async def start_async(
        self, input: Any = None, *, run_id: str | None = None, resource_id: str | None = None
    ) -> str:
        """Start a run in the background once its first snapshot is durable; returns its id."""
        msg = StartRun(input=input, run_id=run_id, resource_id=resource_id, wait=False)
        started: str = await self.ref.ask(msg)
        return started

    async def resume(
        self, run_id: str, resume_data: Any = None, *, step: str | list[str] | None = None
    ) -> RunResult:
        """Resume a suspended run and wait for it to stop running again."""
        msg = ResumeRun(run_id=run_id, step=step, resume_data=resume_data)
        result: RunResult = await self.ref.ask(msg)
        return result

    async def resume_async(
        self, run_id: str, resume_data: Any = None, *, step: str | list[str] | None = None
    ) -> str:
        """Resume a suspended run in the background (after the resume is durable)."""
        msg = ResumeRun(run_id=run_id, step=step, resume_data=resume_data, wait=False)
        resumed: str = await self.ref.ask(msg)
        return resumed

    async def cancel(self, run_id: str) -> RunResult:
        """Cancel the run (running steps are cancelled); returns its final result."""
        result: RunResult = await self.ref.ask(CancelRun(run_id=run_id))
        return result

    async def wait(self, run_id: str) -> RunResult:
        """Wait until the run is no longer running; returns its result."""
        result: RunResult = await self.ref.ask(WaitRun(run_id=run_id))
        return result

    @asynccontextmanager
    async def watch(self, run_id: str) -> AsyncIterator[AsyncIterator[RunEvent]]:
        """The run's events from now until it stops running."""
        async with self.ref.stream(WatchRun(run_id=run_id)) as events:
            yield events

    @asynccontextmanager
    async def stream(
        self, input: Any = None, *, run_id: str | None = None, resource_id: str | None = None
    ) -> AsyncIterator[AsyncIterator[RunEvent]]:
        """Start a run and iterate its events, ``workflow-start`` to ``workflow-finish``."""
        msg = StreamRun(input=input, run_id=run_id, resource_id=resource_id)
        async with self.ref.stream(msg) as events:
            yield events

    async def get_run(self, run_id: str) -> RunSnapshot:
        """The run's latest snapshot."""
        snapshot: RunSnapshot = await self.ref.ask(GetRun(run_id=run_id))
        return snapshot

    async def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        resource_id: str | None = None,
        from_date: float | None = None,
        to_date: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> RunPage:
        """Runs matching every given filter, newest first."""
        msg = ListRuns(
            status=status,
            resource_id=resource_id,
            from_date=from_date,
            to_date=to_date,
            limit=limit,
            offset=offset,
        )
        page: RunPage = await self.ref.ask(msg)
        return page

    async def describe(self) -> WorkflowInfo:
        """Steps, graph and JSON Schemas, as the HTTP API lists them."""
        info: WorkflowInfo = await self.ref.ask(DescribeWorkflow())
        return info
