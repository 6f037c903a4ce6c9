"""Run events: a per-run hub that fans events out to watchers, and the event builders."""

from __future__ import annotations

import uuid
from typing import Any

import trio

from actors.workflow._snapshot import StepRecord
from actors.workflow.messages import EventType, RunEvent

__all__ = ["EventHub", "finish_event", "step_event"]


class EventHub:
    """Watchers of one run. Each gets a bounded channel; a slow watcher slows the run
    (backpressure) rather than losing events, and a watcher that left is dropped."""

    __slots__ = ("_closed", "_subscribers")

    def __init__(self) -> None:
        self._subscribers: list[trio.MemorySendChannel[RunEvent]] = []
        self._closed = False

    @property
    def active(self) -> bool:
        """True while someone watches (events are only built then)."""
        return bool(self._subscribers)

    def subscribe(self, size: int = 64) -> trio.MemoryReceiveChannel[RunEvent]:
        """A new watcher's channel; it ends when the run stops running."""
        send, receive = trio.open_memory_channel[RunEvent](size)
        if self._closed:
            send.close()
        else:
            self._subscribers.append(send)
        return receive

    async def publish(self, event: RunEvent) -> None:
        """Deliver ``event`` to every watcher, waiting for room in their channels."""
        for channel in list(self._subscribers):
            try:
                await channel.send(event)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                if channel in self._subscribers:
                    self._subscribers.remove(channel)

    def close(self) -> None:
        """End every watcher's stream (the run stopped running); later watchers end at once."""
        self._closed = True
        for channel in self._subscribers:
            channel.close()
        self._subscribers.clear()

    def reopen(self) -> None:
        """Accept watchers again (the run is resumed)."""
        self._closed = False


def new_call_id() -> str:
    """A fresh id for one step execution in events."""
    return str(uuid.uuid4())


def step_event(
    kind: EventType, run_id: str, step_id: str, call_id: str, record: StepRecord
) -> RunEvent:
    """A ``workflow-step-*`` event with Mastra's payload for the step record."""
    payload: dict[str, Any] = {"stepName": step_id, "id": step_id, "stepCallId": call_id}
    payload["payload"] = record.payload
    payload["startedAt"] = record.started_at
    payload["status"] = record.status
    match record.status:
        case "success" | "bailed":
            payload["output"] = record.output
            payload["endedAt"] = record.ended_at
        case "failed" | "canceled":
            payload["error"] = record.error
            payload["endedAt"] = record.ended_at
        case "suspended":
            payload["suspendPayload"] = record.suspend_payload
            payload["suspendedAt"] = record.suspended_at
        case _:
            pass
    return RunEvent(type=kind, run_id=run_id, payload=payload)


_USAGE = {
    "inputTokens": 0,
    "outputTokens": 0,
    "totalTokens": 0,
    "cachedInputTokens": 0,
    "cacheCreationInputTokens": 0,
    "reasoningTokens": 0,
}


def finish_event(run_id: str, status: str, result: Any, error: str | None) -> RunEvent:
    """The ``workflow-finish`` event."""
    payload: dict[str, Any] = {"workflowStatus": status, "metadata": {}}
    payload["output"] = {"usage": dict(_USAGE)}
    if status in ("success", "bailed"):
        payload["finalWorkflowResult"] = result
    if error is not None:
        payload["error"] = error
    return RunEvent(type="workflow-finish", run_id=run_id, payload=payload)
