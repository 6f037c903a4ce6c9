"""Our MCP client over HTTP: streamable HTTP, and the fallback to HTTP+SSE."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from actors.mcp import McpClientRef, mcp_server
from actors.tools import ToolRef
from runtime.testing import open_test_runtime
from tests.actors.mcp.conftest import FIXTURE, ROOT


@asynccontextmanager
async def _http_fixture(flag: str) -> AsyncIterator[str]:
    """The fixture server serving HTTP in a subprocess; yields its MCP URL."""
    process = await trio.lowlevel.open_process(
        [*FIXTURE, flag], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        line = b""
        while not line.endswith(b"\n"):
            chunk = await process.stdout.receive_some(1)
            assert chunk, "the fixture server exited before printing its URL"
            line += chunk
        yield line.decode().strip()
    finally:
        process.kill()
        with trio.CancelScope(shield=True):
            await process.wait()


@pytest.mark.parametrize(("flag", "transport"), [("--http", "streamable-http"), ("--sse", "sse")])
async def test_http_servers_become_tool_actors(
    flag: str, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="actors.mcp")
    async with _http_fixture(flag) as url, open_test_runtime() as t:
        client: McpClientRef = await t.rt.spawn(mcp_server("remote", url=url))
        tools = {ref.id: ref for ref in await client.tools()}
        assert set(tools) == {"remote_add", "remote_echo", "remote_pid", "remote_fail"}
        result = await tools["remote_echo"].execute({"text": "over " + transport})
        assert result.ok, result.error
        assert result.value["structuredContent"] == {"result": f"over {transport}"}
        missing = await ToolRef(tools["remote_add"].ref).execute({"a": 1})
        assert missing.error is not None and missing.error.kind == "validation"
    assert f"MCP server 'remote' connected over {transport}: 4 tools" in caplog.text
