"""``mastra studio CONFIG``: serve a config with Mastra Studio, its web UI, at ``/``.

Studio is the built single-page app of a pinned ``mastra`` npm release, fetched from the npm
registry into ``~/.cache/mastra-runtime/studio/<version>`` on first use (its integrity hash
checked) or taken from ``--studio-dir``. It is served on the API's own port; the runtime
keeps its traces in memory for Studio's observability pages. SIGINT or SIGTERM stops it
(exit 0); a config without an HTTP server, a bad ``--studio-dir`` or an unreachable
registry exit 2 with the reason.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import trio

from actors.commands._common import command_parser, load_app_config, run_command
from actors.commands._studio import StudioSetup, announce_studio, studio_directory
from runtime import RuntimeConfig, configure_logging

__all__ = ["main", "serve_studio"]

log = logging.getLogger("actors.commands.studio")
EXAMPLES = [
    "mastra studio config/default.toml",
    "mastra studio config.toml --studio-dir node_modules/mastra/dist/studio",
    "mastra dev config.toml --studio   # the same, reloading on changes",
]


async def serve_studio(config: RuntimeConfig, studio: StudioSetup) -> int:
    """Serve ``config`` with Studio until SIGINT/SIGTERM, then stop gracefully; returns 0."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with studio.open_runtime(config) as rt:
            await announce_studio(rt, config)
            async for signum in signals:
                log.info("received %s; stopping", signal.Signals(signum).name)
                break
    log.info("runtime stopped")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = command_parser(
        "studio",
        "Serve a config with Mastra Studio (chat with agents, run workflows, browse threads, "
        "tools and traces) at / on the server's port. Studio is fetched from the npm "
        "registry once and cached; --studio-dir serves an unpacked copy instead.",
        EXAMPLES,
    )
    parser.add_argument("config", help="path of the TOML configuration file")
    parser.add_argument(
        "--studio-dir",
        metavar="DIR",
        help="an unpacked Studio (dist/studio of the mastra npm package) to serve",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``mastra studio``; returns the exit code (0 after SIGINT/SIGTERM, 2 usage)."""

    def body(args: argparse.Namespace) -> int:
        config = load_app_config(args.config)
        studio = StudioSetup(studio_directory(args.studio_dir))
        config = studio.apply(config)
        configure_logging(config.logging)
        return trio.run(serve_studio, config, studio)

    return run_command("studio", _parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
