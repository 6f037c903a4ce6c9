"""``mastra chat AGENT --config CONFIG``: talk to an agent in the terminal, streamed.

Starts the config's actors (not its HTTP servers), then reads one message per line from
stdin and writes the agent's answer to stdout as its text deltas arrive. ``/exit`` or the
end of input quits. An agent with memory keeps the conversation in ``--thread`` of
``--resource`` (so a later ``chat`` with the same thread continues it); without memory the
conversation so far is sent with every message.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO

import msgspec
import trio

from actors.agent import (
    AgentError,
    AgentRef,
    StructuredOutputError,
    TextStreamDelta,
    ToolCallChunk,
)
from actors.commands._common import (
    UsageError,
    command_parser,
    load_app_config,
    quiet_logging,
    run_command,
    threaded_writer,
    without_servers,
)
from actors.llm import ProviderError
from actors.llm.messages import AssistantMessage, ChatMessage, UserMessage
from runtime import ActorCrashed, ActorStopped, Mastra, configure_logging, open_runtime

__all__ = ["Conversation", "converse", "main"]

EXAMPLES = [
    "mastra chat echo --config config/default.toml",
    "mastra chat echo --config config/default.toml --thread t1 --resource alice",
    "echo 'add 2 and 40' | mastra chat echo --config config/default.toml",
]
ReadLine = Callable[[], Awaitable[str]]
Write = Callable[[str], Awaitable[None]]
_TURN_ERRORS = (ProviderError, StructuredOutputError, ActorCrashed, ActorStopped)


@dataclass
class Conversation:
    """Where the turns go: the agent's memory (``thread`` and ``resource``) when it has
    memory, else ``history`` kept here and sent with every message."""

    thread: str | None
    resource: str | None
    history: list[ChatMessage] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "chat",
        "Chat with an agent of a config in the terminal: one message per line on stdin, the "
        "answer streamed to stdout. '/exit' or end of input (Ctrl-D) quits. The config's "
        "HTTP servers are not started.",
        EXAMPLES,
    )
    parser.add_argument("agent", help="name of the agent to talk to")
    parser.add_argument("--config", required=True, help="path of the TOML configuration file")
    parser.add_argument("--thread", help="memory thread id (default: a new one)")
    parser.add_argument("--resource", default="cli", help="memory resource id (default: cli)")
    parser.add_argument("--verbose", action="store_true", help="show the runtime's INFO logs")
    return parser


async def _turn(agent: AgentRef, text: str, talk: Conversation, write: Write) -> None:
    """Stream one answer; a failed turn is reported on stderr and the chat goes on."""
    messages: list[ChatMessage] = [*talk.history, UserMessage(content=text)]
    answer: list[str] = []
    reported = False
    try:
        async with agent.stream(messages, thread=talk.thread, resource=talk.resource) as chunks:
            async for chunk in chunks:
                match chunk:
                    case TextStreamDelta(text=delta):
                        answer.append(delta)
                        await write(delta)
                    case ToolCallChunk(call=call):
                        args = msgspec.json.encode(call.args).decode()
                        print(f"[tool {call.tool_name} {args}]", file=sys.stderr)
                    case AgentError(message=message):
                        print(f"mastra chat: the turn failed: {message}", file=sys.stderr)
                        reported = True
                    case _:
                        pass
    except _TURN_ERRORS as exc:
        if not reported:  # a failure inside the turn was sent as an AgentError chunk
            print(f"mastra chat: the turn failed: {exc}", file=sys.stderr)
    await write("\n")
    if talk.thread is None and answer:
        talk.history = [*messages, AssistantMessage(content="".join(answer))]


async def converse(agent: AgentRef, talk: Conversation, read_line: ReadLine, write: Write) -> int:
    """Read messages with ``read_line`` until ``/exit`` or end of input ("") and write each
    streamed answer with ``write``; returns the number of turns.

    Cancellation stops the turn in progress (its completed steps are stored by the agent).
    A failing turn is reported on stderr and does not end the conversation.
    """
    turns = 0
    while True:
        line = await read_line()
        if not line:
            return turns
        text = line.strip()
        if text == "/exit":
            return turns
        if text:
            await _turn(agent, text, talk, write)
            turns += 1


def _agent(rt: Mastra, name: str) -> AgentRef:
    ref = rt.lookup(name, kind="agent")
    if ref is None:
        known = ", ".join(sorted(rt.actors("agent"))) or "none"
        raise UsageError(f"unknown agent {name!r} (known agents: {known})")
    return AgentRef(ref)


async def _chat(args: argparse.Namespace, stdin: IO[str], stdout: IO[str]) -> int:
    config = quiet_logging(without_servers(load_app_config(args.config)), args.verbose)
    configure_logging(config.logging)
    limiter = trio.CapacityLimiter(1)

    async def read_line() -> str:
        # Abandoned on cancellation (Ctrl-C): a thread blocked on a terminal cannot be woken.
        return await trio.to_thread.run_sync(
            stdin.readline, abandon_on_cancel=True, limiter=limiter
        )

    write = threaded_writer(stdout, limiter)

    async with open_runtime(config) as rt:
        agent = _agent(rt, args.agent)
        info = await agent.info()
        thread = args.thread or f"chat-{uuid.uuid4().hex[:12]}"
        talk = Conversation(thread, args.resource) if info.memory else Conversation(None, None)
        where = f"thread {thread} of {args.resource}" if info.memory else "no memory"
        print(f"chatting with {info.name} ({where}); /exit or Ctrl-D quits", file=sys.stderr)
        await converse(agent, talk, read_line, write)
    return 0


def main(
    argv: list[str] | None = None, *, stdin: IO[str] | None = None, stdout: IO[str] | None = None
) -> int:
    """Run ``mastra chat``; returns the exit code (0 done, 2 usage or config error, 130 on
    Ctrl-C). ``stdin``/``stdout`` default to the process's streams."""

    def body(args: argparse.Namespace) -> int:
        return trio.run(_chat, args, stdin or sys.stdin, stdout or sys.stdout)

    return run_command("chat", _parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
