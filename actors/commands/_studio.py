"""What ``mastra studio`` and ``mastra dev --studio`` share: finding Studio's files, pointing
the config's HTTP servers at them, and a runtime that keeps its traces for Studio."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec

from actors.commands._common import UsageError, _is_server
from actors.observability import Observability, TraceStore, TraceStoreExporter
from actors.studio import StudioUnavailable, ensure_studio, studio_ready
from runtime import Mastra, RuntimeConfig, open_runtime

__all__ = ["StudioSetup", "studio_directory"]

log = logging.getLogger("actors.commands.studio")


def studio_directory(given: str | None) -> Path:
    """``--studio-dir`` when given (it must hold an unpacked Studio), else the cached copy of
    the pinned release, fetched on first use. Blocking (may download): call it before
    ``trio.run``. Raises ``UsageError`` naming the flag or saying why the fetch failed."""
    if given is not None:
        directory = Path(given).expanduser()
        if not studio_ready(directory):
            raise UsageError(
                f"--studio-dir: {given} holds no Studio (expected index.html and assets/, "
                "as in dist/studio of the mastra npm package)"
            )
        return directory.resolve()
    try:
        return ensure_studio()
    except StudioUnavailable as exc:
        raise UsageError(f"Studio could not be fetched: {exc}") from None


class StudioSetup:
    """Studio's directory and the trace store that outlives ``mastra dev``'s restarts."""

    def __init__(self, directory: Path, traces: TraceStore | None = None) -> None:
        self.directory = directory
        self.traces = traces if traces is not None else TraceStore()

    def apply(self, config: RuntimeConfig) -> RuntimeConfig:
        """``config`` with every HTTP server serving Studio; ``UsageError`` when it has none."""
        actors = []
        found = False
        for actor in config.actors:
            if _is_server(actor.factory):
                found = True
                options = {**actor.options, "studio_dir": str(self.directory)}
                actors.append(msgspec.structs.replace(actor, options=options))
            else:
                actors.append(actor)
        if not found:
            raise UsageError(
                'the config declares no HTTP server (an actor with factory "actors.server:Server")'
            )
        return msgspec.structs.replace(config, actors=actors)

    @asynccontextmanager
    async def open_runtime(self, config: RuntimeConfig) -> AsyncIterator[Mastra]:
        """``open_runtime(config)`` with spans kept in the trace store and the
        ``observability`` actor that serves them; exits as ``open_runtime`` does."""
        async with open_runtime(config, span_exporter=TraceStoreExporter(self.traces)) as rt:
            await rt.spawn(
                functools.partial(Observability, self.traces),
                name="observability",
                kind="observability",
                restart="permanent",
            )
            if not config.telemetry.enabled:
                log.warning("telemetry.enabled is false: Studio shows no traces")
            yield rt


async def announce_studio(rt: Mastra, config: RuntimeConfig) -> list[str]:
    """Log where Studio is served (each HTTP server's address); returns the URLs."""
    from actors.server import GetAddress

    urls = []
    for actor in config.actors:
        ref = rt.lookup(actor.name) if _is_server(actor.factory) else None
        if ref is not None:
            urls.append(f"{await ref.ask(GetAddress())}/")
    for url in urls:
        log.info("Studio: %s", url)
    return urls
