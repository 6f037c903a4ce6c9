"""Commands of the ``mastra`` command line contributed by ``actors``.

Each module holds one command and a ``main(argv) -> int``, registered in the
``mastra.commands`` entry-point group that ``python -m runtime`` dispatches to:
``dev`` (serve and reload on changes), ``init`` (scaffold a project), ``chat`` (talk to an
agent), ``run`` (run a workflow), ``mcp`` (serve agents, workflows and tools over MCP on stdio) and
``deploy`` (write a Dockerfile and a systemd unit).
Exit codes: 0 success, 1 failure, 2 usage or configuration error (``run`` adds 3 for a
suspended run).
"""
