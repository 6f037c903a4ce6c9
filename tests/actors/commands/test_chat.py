"""``mastra chat``: lines in, streamed answers out, against the demo ``echo`` agent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import apsw
import pytest

from actors.agent import Agent
from actors.commands.chat import Conversation, converse, main
from actors.llm import ScriptedConfig, spawn_provider
from actors.llm.messages import AssistantMessage, UserMessage
from actors.stores._sql import Database
from runtime.testing import open_test_runtime

from .conftest import ROOT


class RecordingOut(io.StringIO):
    """Keeps every ``write`` separately, to see an answer arrive in pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_chat_streams_answers_and_calls_tools(
    default_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = RecordingOut()
    stdin = io.StringIO("hello big world\n\nadd 2 and 40\n/exit\nnever read\n")
    code = main(
        ["echo", "--config", str(default_config), "--thread", "t1"], stdin=stdin, stdout=out
    )
    assert code == 0
    assert out.getvalue() == "Echo: hello big world\nThe sum is 42.\n"
    first_answer = out.writes[: out.writes.index("\n")]
    assert len(first_answer) > 1  # streamed word by word, not written whole
    assert "".join(first_answer) == "Echo: hello big world"
    err = capsys.readouterr().err
    assert "chatting with echo (thread t1 of cli)" in err
    assert '[tool add {"a":2,"b":40}]' in err


def test_end_of_input_quits(default_config: Path) -> None:
    out = io.StringIO()
    assert main(["echo", "--config", str(default_config)], stdin=io.StringIO("hi"), stdout=out) == 0
    assert out.getvalue() == "Echo: hi\n"


def test_an_unknown_agent_exits_2_listing_the_known_ones(
    default_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["nope", "--config", str(default_config)], stdin=io.StringIO("hi\n"))
    assert code == 2
    assert capsys.readouterr().err == "mastra chat: unknown agent 'nope' (known agents: echo)\n"


def test_data_in_use_by_a_running_store_exits_1_saying_so(
    default_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    server_store = Database(str(tmp_path / "data" / "mastra.db"))  # as a running server holds it
    try:
        code = main(["echo", "--config", str(default_config)], stdin=io.StringIO("hi\n"))
    finally:
        server_store.close()
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("mastra chat: ") and "is in use by another store" in err
    assert "Traceback" not in err


def test_turns_are_kept_in_the_memory_thread(default_config: Path) -> None:
    # Two chats (as two separate processes would) in one thread of one resource.
    for line in ["first message\n", "second message\n"]:
        args = ["echo", "--config", str(default_config), "--thread", "t9", "--resource", "u9"]
        assert main(args, stdin=io.StringIO(line), stdout=io.StringIO()) == 0
    db = apsw.Connection(str(default_config.parent / "data" / "mastra.db"))
    rows = db.execute(
        "SELECT role, resource_id FROM messages WHERE thread_id = 't9' ORDER BY seq"
    ).fetchall()
    assert rows == [("user", "u9"), ("assistant", "u9")] * 2


@pytest.mark.slow
def test_chat_as_a_process_reads_stdin_and_streams_to_stdout(default_config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "actors.commands.chat", "echo", "--config", str(default_config)],
        input="hello there\nadd 2 and 40\n/exit\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: hello there\nThe sum is 42.\n"
    assert "Traceback" not in done.stderr


async def test_without_memory_the_conversation_is_sent_with_each_message() -> None:
    lines = iter(["one\n", "two\n", ""])
    written: list[str] = []

    async def read_line() -> str:
        return next(lines)

    async def write(text: str) -> None:
        written.append(text)

    plain = Agent(name="plain", instructions="Echo.", model="scripted")
    async with open_test_runtime() as t:
        await spawn_provider(t.rt, "scripted", ScriptedConfig())
        agent = await t.rt.spawn(plain)
        talk = Conversation(None, None)
        assert await converse(agent, talk, read_line, write) == 2
    assert "".join(written) == "Echo: one\nEcho: two\n"
    assert talk.history == [
        UserMessage(content="one"),
        AssistantMessage(content="Echo: one"),
        UserMessage(content="two"),
        AssistantMessage(content="Echo: two"),
    ]
