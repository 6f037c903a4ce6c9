"""How to reach an MCP server: a command run over stdio, or an HTTP URL."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from runtime import ConfigError

__all__ = ["McpConnection", "connection_from_options"]

Transport = Literal["auto", "streamable-http", "sse"]


class McpConnection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One MCP server: ``command`` (with ``args``, ``env``, ``cwd``) runs it as a subprocess
    spoken to over stdin/stdout; ``url`` reaches it over HTTP (``headers`` sent with every
    request). ``transport = "auto"`` tries streamable HTTP first and falls back to the older
    HTTP+SSE transport; ``"streamable-http"`` and ``"sse"`` use only that one.

    ``env`` is added to a small safe part of this process's environment (``PATH``, ``HOME``,
    ...), as the MCP SDK does. ``stderr = "discard"`` drops the server's stderr instead of
    passing it through to ours.
    """

    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    transport: Transport = "auto"
    stderr: Literal["inherit", "discard"] = "inherit"

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (a stdio server) or `url` (an HTTP server)")
        if self.command is not None and not self.command:
            raise ValueError("`command` must not be empty")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"`url` must be an http:// or https:// URL, got {self.url!r}")

    @property
    def label(self) -> str:
        """What the server is, for messages: its command line or its URL."""
        if self.command is not None:
            return " ".join([self.command, *self.args])
        return str(self.url)


def connection_from_options(name: str, options: dict[str, Any]) -> McpConnection:
    """Decode ``options`` (an ``[[actors]]`` entry's) into an ``McpConnection``.

    Raises ``ConfigError`` naming the MCP client and the bad field.
    """
    try:
        return msgspec.convert(options, McpConnection, strict=False)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"MCP client {name!r} options: {exc}") from None
