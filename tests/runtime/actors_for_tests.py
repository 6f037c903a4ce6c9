"""Small actors shared by the kernel tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import trio

from runtime import Actor


class Put(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    sender: str
    seq: int


class Get(msgspec.Struct, frozen=True, tag=True):
    pass


class Boom(msgspec.Struct, frozen=True, tag=True):
    pass


class Sleep(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    seconds: float


class Chunks(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    count: int
    fail_at: int = -1


@dataclass
class Journal:
    """Shared across incarnations: what every incarnation did, in order."""

    events: list[str] = field(default_factory=list)
    seen: list[Any] = field(default_factory=list)


class Recorder(Actor):
    """Records Puts; Boom crashes; Get returns what this incarnation saw."""

    def __init__(self, journal: Journal, tag: str = "") -> None:
        self.journal = journal
        self.tag = tag or "r"

    async def on_start(self) -> None:
        self.mine: list[Any] = []
        self.journal.events.append(f"start {self.tag}")

    async def on_stop(self) -> None:
        self.journal.events.append(f"stop {self.tag}")

    async def receive(self, msg: Any) -> Any:
        match msg:
            case Put():
                self.mine.append(msg)
                self.journal.seen.append(msg)
                return None
            case Get():
                return list(self.mine)
            case Boom():
                raise ValueError(f"boom in {self.tag}")
            case Sleep(seconds=seconds):
                await trio.sleep(seconds)
                return "slept"
            case Chunks(count=count, fail_at=fail_at):
                for i in range(count):
                    if i == fail_at:
                        raise RuntimeError("stream broke")
                    await self.ctx.reply_stream.send(i)
                return None
        raise TypeError(f"unexpected {msg!r}")
