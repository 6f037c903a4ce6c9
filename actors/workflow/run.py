"""The workflow actor: supervisor of a workflow's runs and of its step actors.

One actor (registry kind ``workflow``, named after the workflow id) serves every run of one
workflow. Its children are the step actors, one per step with retries (nested workflows'
steps included), each handling many runs' executions concurrently, so that a retry after a
crash meets a fresh incarnation; steps without retries run inline in the run's task. Each
run is a task in the actor's nursery driving an ``Engine`` over the run's snapshot, saved
through the persistence port after every step. Callers waiting for a run are answered from
that task when the run stops (deferred replies), so they hold no handler, and a caller
going away does not cancel the run. On start the actor resumes the runs the store still
records as ``running`` or ``waiting`` (the process died under them); suspended runs wait in
the store for ``ResumeRun``.

When the store keeps leases (Postgres, shared by several nodes), a node drives a run only
while it holds the run's lease (see ``actors.stores.lease_messages``): a heartbeat renews the
leases of its runs every third of ``lease_for`` and claims the runs of nodes that stopped
renewing, continuing each from its last acknowledged snapshot; a run whose lease it lost
stops on this node without saving anything more. A node that stops gracefully hands its
runs over: it ends their leases and wakes the other nodes, which claim them at once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, assert_never

import trio

from actors.stores import StoreError
from actors.workflow._active import ActiveRun, settle_canceled
from actors.workflow._admission import Admission
from actors.workflow._describe import describe
from actors.workflow._engine import Engine
from actors.workflow._errors import InvalidRunState, RunNotFound, WorkflowError
from actors.workflow._events import EventHub
from actors.workflow._leased import LeasedSnapshots, leased_port
from actors.workflow._metrics import RunMetrics
from actors.workflow._persist import (
    MemorySnapshots,
    RunQuery,
    SnapshotStore,
    SnapshotWriter,
    StoreSnapshots,
)
from actors.workflow._recovery import Recovery
from actors.workflow._resume import mark_resumed, resolve_path, resume_value
from actors.workflow._schema import check
from actors.workflow._snapshot import (
    RunSnapshot,
    RunStatus,
    decode,
    encode,
    now_ms,
)
from actors.workflow._step_actor import (
    InlineStep,
    RunStep,
    StepActor,
    StepOutcome,
    call_step,
)
from actors.workflow.dsl import Workflow
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
    WorkflowRequest,
)
from runtime import Actor, ActorError, ActorRef, ActorStopped

__all__ = ["WorkflowActor"]

log = logging.getLogger("actors.workflow")

CANCEL_POLL = 0.5
"""The longest pause between looks at the store while another node cancels a run."""


class WorkflowActor(Recovery, Actor):
    """Runs one workflow: create, start, resume, cancel, watch and list its runs.

    ``store`` names the store actor (kind ``store``) that persists snapshots; with ``memory``
    given instead, snapshots live in that object (shared across this actor's restarts).
    With ``keep_runs_for`` (seconds), finished runs are deleted that long after their last
    save, checked at start and then periodically. At most ``max_active_runs`` runs are
    active at once: a start or resume beyond that waits for one to end before it is
    acknowledged, so a flood of starts fills the mailbox and slows its senders instead of
    growing memory. Bad requests raise ``WorkflowError`` subclasses in the caller; the
    actor keeps running.
    """

    concurrency = 1024
    uses_nursery = True
    expected_errors = (WorkflowError,)

    def __init__(
        self,
        workflow: Workflow,
        store: str | None,
        memory: MemorySnapshots | None,
        *,
        step_concurrency: int = 256,
        keep_runs_for: float | None = None,
        max_active_runs: int = 10_000,
        lease_for: float = 30.0,
    ) -> None:
        self.workflow = workflow
        self.lease_for = lease_for
        self.graph = workflow.graph
        self.store_name = store
        self.memory = memory
        self.step_concurrency = step_concurrency
        self.keep_runs_for = keep_runs_for
        self.max_active_runs = max_active_runs

    async def on_start(self) -> None:
        self.port = self._port()
        self.runs: dict[str, ActiveRun] = {}
        self.admission = Admission(self.max_active_runs)
        self.metrics = RunMetrics(self.ctx.meter, self.workflow.id)
        self.info: WorkflowInfo = describe(self.graph, self.workflow.description)
        self.steps: dict[str, ActorRef] = {}
        self.inline: dict[str, InlineStep] = {}
        runtime = self.ctx.runtime
        tracer = self.ctx.tracer if runtime.tracing.enabled else None
        for path, (step, init_schema) in self.graph.step_specs().items():
            if step.retries == 0:
                limit, name = self.step_concurrency, f"{self.ctx.name}/{path}"
                self.inline[path] = InlineStep(
                    step, init_schema, runtime, limit, tracer=tracer, name=name
                )
                continue
            self.steps[path] = await self.ctx.spawn(
                StepActor,
                step,
                init_schema,
                name=f"{self.ctx.name}/{path}",
                concurrency=self.step_concurrency,
                mailbox=max(64, self.step_concurrency),
            )
        self.recovering: set[str] = set()  # found running at start, not yet continued
        self.recovery_listed = trio.Event()  # the runs to recover are claimed
        self.heartbeat_scope = trio.CancelScope()
        self.handing_over = False  # this actor is stopping and gives its runs up
        leases = None
        if isinstance(self.port, StoreSnapshots):
            leases = await leased_port(self.port.store, self.lease_for)
        if leases is None:
            self.ctx.nursery.start_soon(self._recover)
        else:
            self.port = leases
            self.ctx.nursery.start_soon(self._keep_leases, leases)
            self.ctx.nursery.start_soon(self._watch_cancels, leases)
        if self.keep_runs_for is not None:
            self.ctx.nursery.start_soon(self._prune_finished_runs, self.keep_runs_for)

    async def on_stop(self) -> None:
        """On a shared store, hand this node's runs over to the other nodes (see
        ``Recovery._hand_over``); otherwise they stay ``running`` for the next start."""
        if isinstance(self.port, LeasedSnapshots):
            await self._hand_over(self.port)

    async def _prune_finished_runs(self, keep: float) -> None:
        """Delete finished runs older than ``keep`` seconds, now and then every
        ``keep / 4`` seconds (at most an hour). A failed pass is logged and retried at the
        next one; runs until the actor stops."""
        interval = min(3600.0, max(keep / 4, 0.01))
        while True:
            try:
                deleted = await self.port.prune(self.workflow.id, time.time() - keep)
            except (StoreError, ActorError) as exc:
                log.warning("workflow %r: could not delete old runs: %s", self.workflow.id, exc)
            else:
                if deleted:
                    log.info("workflow %r: deleted %d finished runs", self.workflow.id, deleted)
            await trio.sleep(interval)

    def _port(self) -> SnapshotStore:
        if self.store_name is None:
            return self.memory if self.memory is not None else MemorySnapshots()
        ref = self.ctx.lookup(self.store_name, kind="store")
        if ref is None:
            raise LookupError(f"workflow {self.workflow.id!r}: no store named {self.store_name!r}")
        return StoreSnapshots(ref)

    def _run_step(self, path: str, msg: RunStep) -> Awaitable[StepOutcome]:
        inline = self.inline.get(path)
        if inline is not None:
            return inline.run(msg)
        return call_step(self.steps[path], msg)

    # -- messages -----------------------------------------------------------------------
    async def receive(self, msg: WorkflowRequest) -> Any:  # noqa: PLR0911
        match msg:
            case CreateRun(run_id=run_id):
                return await self._create(run_id)
            case StartRun():
                return await self._start(msg)
            case ResumeRun():
                return await self._resume(msg)
            case CancelRun(run_id=run_id):
                return await self._cancel(run_id)
            case WaitRun(run_id=run_id):
                return await self._wait(run_id)
            case WatchRun(run_id=run_id):
                return await self._watch(run_id)
            case StreamRun():
                return await self._stream(msg)
            case GetRun(run_id=run_id):
                return decode(encode(await self._snapshot(run_id)))
            case ListRuns():
                return await self._list(msg)
            case DescribeWorkflow():
                return self.info
        assert_never(msg)

    # -- starting and driving runs --------------------------------------------------------
    @asynccontextmanager
    async def _new_run(self, msg: StartRun | StreamRun) -> AsyncIterator[RunSnapshot]:
        """The snapshot of a run to start, its id claimed until the block ends (by then
        the block registered it): another start of the same id meanwhile, while this one
        waits for the store or for a free slot, is refused."""
        plain = check(msg.input, self.graph.input_schema, step=None, role="input data")
        run_id = msg.run_id or str(uuid.uuid4())
        refusal = f"run {run_id!r} was already started"
        with self.admission.claim(run_id, self.runs, refusal):
            created_at = now = now_ms()
            if msg.run_id is not None:
                found = await self.port.load(self.workflow.id, run_id)
                if found is not None and found.status != "pending":
                    raise InvalidRunState(refusal)
                created_at = now if found is None else found.created_at
            yield RunSnapshot(
                run_id=run_id,
                workflow_id=self.workflow.id,
                status="running",
                input=plain,
                resource_id=msg.resource_id,
                request_context=dict(msg.request_context),
                created_at=created_at,
                updated_at=now,
            )

    async def _create(self, run_id: str | None) -> str:
        """Record a ``pending`` run (as Mastra does) so it can be read, listed and started
        later, by this process or after a restart; an existing run is left as it is."""
        new_id = run_id or str(uuid.uuid4())
        if new_id in self.runs or (
            run_id is not None and await self.port.load(self.workflow.id, new_id) is not None
        ):
            return new_id
        now = now_ms()
        pending = RunSnapshot(
            run_id=new_id, workflow_id=self.workflow.id, created_at=now, updated_at=now
        )
        await self.port.save(pending, encode(pending))
        return new_id

    async def _start(self, msg: StartRun) -> str | None:
        # A waiting caller learns the outcome, so the run is saved from its first step on;
        # a background start is acknowledged only once the run is durable.
        async with self._new_run(msg) as snapshot:
            run = await self._launch(snapshot, save=not msg.wait)
        if not msg.wait:
            return run.snapshot.run_id
        self._answer_when_stopped(run)
        return None

    def _answer_when_stopped(self, run: ActiveRun) -> None:
        """Answer the ask being handled with the run's result once it stops, from the run's
        own task: the handler returns at once, so callers waiting for long runs never hold
        the handlers that other requests (a cancel, say) need."""
        reply = self.ctx.defer_reply()
        if reply is not None:
            run.waiters.append(reply)

    async def _register(self, snapshot: RunSnapshot) -> ActiveRun:
        """Take one of the ``max_active_runs`` slots (waiting while none is free, which
        holds the caller's acknowledgement back) and enter the run in ``runs``. Whoever
        registers a run ends it with ``_execute`` or ``_unregister``."""
        await self.admission.enter()
        return self._registered(snapshot)

    def _registered(self, snapshot: RunSnapshot) -> ActiveRun:
        """Enter a run whose slot was taken in ``runs``."""
        writer = SnapshotWriter(self.port, snapshot)
        hub = EventHub()
        engine = Engine(self.graph, snapshot, writer, self._run_step, hub)
        run = self.runs[snapshot.run_id] = ActiveRun(snapshot, writer, engine, hub)
        run.started = self.metrics.started()
        return run

    def _unregister(self, run: ActiveRun, status: RunStatus | None) -> None:
        """Forget a registered run and give its slot back; ``status`` is what its execution
        stopped in (None: it never ran, or this actor stopped under it)."""
        if self.runs.get(run.snapshot.run_id) is run:
            del self.runs[run.snapshot.run_id]
        self.admission.leave()
        self.metrics.stopped(run.started, status)

    async def _launch(self, snapshot: RunSnapshot, *, save: bool = True) -> ActiveRun:
        """Register the run, make its state durable (``save``), start driving it."""
        return await self._go(await self._register(snapshot), save=save)

    async def _go(self, run: ActiveRun, *, save: bool = True) -> ActiveRun:
        try:
            if save:
                await run.writer.commit()
        except BaseException:
            self._unregister(run, None)
            raise
        self.ctx.nursery.start_soon(self._drive, run)
        return run

    async def _drive(self, run: ActiveRun) -> None:
        """Run the engine, then save and announce the outcome, and answer the callers
        waiting for it. A stop of this actor leaves the run ``running`` in the store, to be
        resumed by the next start, and fails its waiting callers with ``ActorStopped``."""
        try:
            await self._execute(run)
        finally:
            for reply in run.waiters:
                if run.store_failure is not None:
                    reply.set_error(run.store_failure)
                elif run.stopped.is_set() and not self.handing_over:
                    reply.set_value(RunResult.of(run.snapshot))
                else:
                    reply.set_error(ActorStopped(f"workflow {self.workflow.id!r} stopped"))

    async def _execute(self, run: ActiveRun) -> None:
        status: RunStatus | None = None
        try:
            await run.execute()
            status = run.snapshot.status
        finally:
            self._unregister(run, status)
        run.stopped.set()

    # -- resume, cancel, wait, watch -------------------------------------------------------
    async def _resume(self, msg: ResumeRun) -> str | None:
        current = self.runs.get(msg.run_id)
        if current is not None:
            await current.stopped.wait()
        refusal = "This workflow run was not suspended"
        with self.admission.claim(msg.run_id, self.runs, refusal):
            snapshot = await self._snapshot(msg.run_id)
            if snapshot.status != "suspended":
                raise InvalidRunState(refusal)
            path = resolve_path(snapshot, msg.step)
            mark_resumed(
                snapshot, self.graph, path, resume_value(self.graph, path, msg.resume_data)
            )
            run = await self._launch(snapshot)
        if not msg.wait:
            return msg.run_id
        self._answer_when_stopped(run)
        return None

    async def _cancel(self, run_id: str) -> RunResult:
        await self.recovery_listed.wait()
        if run_id in self.recovering:  # not continued yet: settle it where it is stored
            self.recovering.discard(run_id)
            snapshot = await self._snapshot(run_id)
            if snapshot.status in ("running", "waiting"):
                settle_canceled(snapshot)
                await SnapshotWriter(self.port, snapshot).commit()
            return RunResult.of(snapshot)
        await self._until_recovered(run_id)
        run = self.runs.get(run_id)
        if run is not None:
            run.scope.cancel()
            await run.stopped.wait()
            return RunResult.of(run.snapshot)
        snapshot = await self._snapshot(run_id)
        if isinstance(self.port, LeasedSnapshots) and snapshot.status in ("running", "waiting"):
            return RunResult.of(await self._cancel_elsewhere(self.port, snapshot))
        if snapshot.status in ("suspended", "pending", "waiting"):
            settle_canceled(snapshot)
            await SnapshotWriter(self.port, snapshot).commit()
        return RunResult.of(snapshot)

    async def _cancel_elsewhere(self, port: LeasedSnapshots, snapshot: RunSnapshot) -> RunSnapshot:
        """A run another node drives: ask it to cancel (the request wakes it) and wait, at
        most three leases long, until the store shows the run stopped. Should that node die
        first, the node that takes the run over sees the request and cancels it."""
        run_id = snapshot.run_id
        if not await port.request_cancel(self.workflow.id, run_id):
            return await self._snapshot(run_id)  # it ended meanwhile
        pause = 0.005
        with trio.move_on_after(3 * port.lease_for + port.heartbeat):
            while snapshot.status in ("running", "waiting"):
                await trio.sleep(pause)
                pause = min(pause * 2, CANCEL_POLL)
                snapshot = await self._snapshot(run_id)
        return snapshot

    async def _wait(self, run_id: str) -> RunResult | None:
        await self._until_recovered(run_id)
        run = self.runs.get(run_id)
        if run is not None:
            self._answer_when_stopped(run)
            return None
        return RunResult.of(await self._snapshot(run_id))

    async def _watch(self, run_id: str) -> None:
        await self._until_recovered(run_id)
        run = self.runs.get(run_id)
        if run is None and await self.port.load(self.workflow.id, run_id) is None:
            raise RunNotFound("Workflow run not found")
        await self._forward(None if run is None else run.hub.subscribe())

    async def _snapshot(self, run_id: str) -> RunSnapshot:
        run = self.runs.get(run_id)
        if run is not None:
            return run.snapshot
        snapshot = await self.port.load(self.workflow.id, run_id)
        if snapshot is None:
            raise RunNotFound("Workflow run not found")
        return snapshot

    async def _stream(self, msg: StreamRun) -> None:
        async with self._new_run(msg) as snapshot:
            run = await self._register(snapshot)
        events = run.hub.subscribe()
        await self._go(run)
        await self._forward(events)
        await run.stopped.wait()

    async def _forward(self, events: trio.MemoryReceiveChannel[RunEvent] | None) -> None:
        """Copy a run's events to the streaming caller until the run stops running."""
        if events is None:
            return
        with events:
            async for event in events:
                await self.ctx.reply_stream.send(event)

    async def _list(self, msg: ListRuns) -> RunPage:
        query = RunQuery(
            status=msg.status,
            resource_id=msg.resource_id,
            from_date=msg.from_date,
            to_date=msg.to_date,
            limit=msg.limit,
            offset=msg.offset,
        )
        runs, total = await self.port.list(self.workflow.id, query)
        return RunPage(runs=runs, total=total)
