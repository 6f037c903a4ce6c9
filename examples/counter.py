"""The smallest useful actor: a counter with tell, ask, supervision and stats.

Run it with ``python -m examples.counter``.
"""

from __future__ import annotations

import msgspec
import trio

from runtime import Actor, ActorCrashed, open_runtime


class Inc(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    by: int = 1


class Get(msgspec.Struct, frozen=True, tag=True):
    pass


class Fail(msgspec.Struct, frozen=True, tag=True):
    pass


class Counter(Actor):
    async def on_start(self) -> None:
        self.n = 0

    async def receive(self, msg: Inc | Get | Fail) -> int | None:
        match msg:
            case Inc(by=by):
                self.n += by
                return None
            case Get():
                return self.n  # the reply, when the sender asked
            case Fail():
                raise RuntimeError("asked to fail")


async def main() -> list[str]:
    """Run the tour and return what it printed (the example's test checks it)."""
    lines: list[str] = []
    async with open_runtime() as rt:
        ref = await rt.spawn(Counter, name="counter", restart="permanent", mailbox=64)
        await ref.send(Inc(by=2))  # tell: waits only for mailbox space
        ref.send_nowait(Inc())  # raises MailboxFull instead of waiting
        lines.append(f"count = {await ref.ask(Get(), timeout=1.0)}")
        try:
            await ref.ask(Fail())
        except ActorCrashed as exc:
            lines.append(f"crashed: {exc.__cause__}")
        lines.append(f"after restart = {await ref.ask(Get())}")  # fresh state, same ref
        stats = rt.stats()["counter"]
        lines.append(f"handled={stats.handled} failed={stats.failed} restarts={stats.restarts}")
        await rt.stop(ref)
    for line in lines:
        print(line)
    return lines


if __name__ == "__main__":
    trio.run(main)
