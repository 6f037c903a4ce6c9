"""Mastra Studio in headless Chromium against ``mastra studio config/default.toml``.

Needs the system Chromium (Debian's ``chromium``; installed with apt-get here when missing
and running as root) and Studio's files (fetched once from the npm registry into the
cache). Without either the test is skipped, saying which. Every page's API calls are
recorded: each must answer 2xx, or a clean 404 for a route this server does not serve;
never a 5xx or a 405. Screenshots land in a temporary directory, or in the directory
``STUDIO_SCREENSHOTS`` names (``STUDIO_SCREENSHOTS=docs/screenshots`` refreshes the
README's).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.studio import StudioUnavailable, ensure_studio
from tests.e2e.serve import ROOT

pytestmark = pytest.mark.slow

_STUDIO_URL = re.compile(r"Studio: (http://\S+)/")


def _chromium() -> str:
    """The system Chromium's path; installs Debian's package when it is missing and this
    is root on a machine with apt-get (as on CI), else skips saying why."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install -y chromium)")
    return found


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mastra studio config/default.toml`` as a real process on a free port."""
    try:
        ensure_studio()
    except StudioUnavailable as exc:
        pytest.skip(f"Studio's files are not cached and cannot be fetched: {exc}")
    data = tmp_path_factory.mktemp("studio")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MASTRA_PORT": "0", "MASTRA_DATA": str(data)}
    command = [sys.executable, "-m", "runtime", "studio", str(ROOT / "config" / "default.toml")]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    url = None
    for line in proc.stderr:
        lines.append(line)
        if match := _STUDIO_URL.search(line):
            url = match.group(1)
            break
    assert url is not None, "".join(lines)
    drain = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    drain.start()
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, "".join(lines)


def test_studio_pages_in_chromium(studio_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    executable = _chromium()
    shots = Path(os.environ.get("STUDIO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    calls: list[tuple[str, str, int]] = []

    def shot(page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots / f"{name}.png"))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(15_000)
        # Studio must work offline: nothing leaves the machine.
        context.route(lambda url: not url.startswith(studio_url), lambda route: route.abort())
        page = context.new_page()
        page.on(
            "response",
            lambda r: (
                calls.append((r.request.method, r.url, r.status)) if "/api/" in r.url else None
            ),
        )

        page.goto(f"{studio_url}/agents")
        expect(page.get_by_text("echo").first).to_be_visible()
        shot(page, "agents")

        page.goto(f"{studio_url}/agents/echo/chat")
        box = page.get_by_placeholder("Enter your message...")
        box.fill("please add 2 and 40")
        box.press("Enter")
        expect(page.get_by_text("The sum is 42.")).to_be_visible()
        expect(page.get_by_text("Add", exact=True)).to_be_visible()  # the tool call
        shot(page, "agent-chat")

        page.goto(f"{studio_url}/workflows")
        expect(page.get_by_text("three-step").first).to_be_visible()
        shot(page, "workflows")

        page.goto(f"{studio_url}/workflows/three-step/graph")
        page.locator("input[name=value]").fill("2")
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text("Success").first).to_be_visible()
        shot(page, "workflow-run")

        page.goto(f"{studio_url}/workflows/approval/graph")
        page.locator("[name=item]").fill("invoice-7")
        page.get_by_role("button", name="Run", exact=True).click()
        expect(page.get_by_text("Suspended").first).to_be_visible()
        shot(page, "workflow-suspended")
        page.get_by_role("checkbox", name="Approved").click()
        page.get_by_role("button", name="Resume", exact=True).first.click()
        expect(page.get_by_text("Success").first).to_be_visible()
        shot(page, "workflow-resumed")

        page.goto(f"{studio_url}/tools")
        expect(page.get_by_text("add").first).to_be_visible()
        shot(page, "tools")

        for path, name in (("/mcps", "mcp"), ("/settings", "settings")):
            page.goto(f"{studio_url}{path}")
            shot(page, name)

        page.goto(f"{studio_url}/observability")
        row = page.get_by_text("echo").first
        expect(row).to_be_visible()
        shot(page, "traces")
        row.click()
        expect(page.get_by_text("invoke_agent echo").first).to_be_visible()
        shot(page, "trace")
        browser.close()

    refused = [call for call in calls if call[2] >= 500 or call[2] in {400, 405}]
    assert not refused, refused
    ours = ("/api/agents", "/api/workflows", "/api/tools", "/api/observability/traces")
    assert all(status < 300 for method, url, status in calls if url.split("?")[0].endswith(ours))
