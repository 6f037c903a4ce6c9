"""Fetching Studio from a real loopback registry: integrity, cache, unreachable registry."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from actors.commands.studio import main
from actors.studio import StudioUnavailable, ensure_studio, verify_integrity


def _tarball() -> bytes:
    files = {
        "package/dist/studio/index.html": b"<html>%%MASTRA_SERVER_PORT%%</html>",
        "package/dist/studio/assets/app.js": b"console.log(1)",
        "package/dist/index.js": b"not studio",
        "package/dist/studio/../../../evil.txt": b"outside",
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, object]]]:
    """A loopback npm registry serving ``mastra@9.9.9``; the dict holds its dist metadata."""
    tarball = _tarball()
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    dist: dict[str, object] = {"integrity": f"sha512-{digest}"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/mastra/9.9.9":
                body = json.dumps({"dist": {**dist, "tarball": f"{base}/t.tgz"}}).encode()
            elif self.path == "/t.tgz":
                body = tarball
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, dist
    finally:
        server.shutdown()
        server.server_close()


def test_fetches_once_unpacks_only_studio_then_uses_the_cache(
    registry: tuple[str, dict[str, object]], tmp_path: Path
) -> None:
    base, _ = registry
    found = ensure_studio("9.9.9", tmp_path, registry=base)
    assert found == tmp_path / "9.9.9"
    assert (found / "assets" / "app.js").read_bytes() == b"console.log(1)"
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "9.9.9",
        "app.js",
        "assets",
        "index.html",
    ]
    # cached: no registry needed any more
    assert ensure_studio("9.9.9", tmp_path, registry="http://127.0.0.1:9") == found


def test_a_tarball_that_fails_its_integrity_leaves_nothing(
    registry: tuple[str, dict[str, object]], tmp_path: Path
) -> None:
    base, dist = registry
    dist["integrity"] = "sha512-" + base64.b64encode(b"x" * 64).decode()
    with pytest.raises(StudioUnavailable, match="integrity"):
        ensure_studio("9.9.9", tmp_path, registry=base)
    assert not (tmp_path / "9.9.9").exists()
    assert list(tmp_path.iterdir()) == []


def test_verify_integrity_falls_back_to_shasum_and_needs_a_digest() -> None:
    data = b"abc"
    verify_integrity(data, {"shasum": hashlib.sha1(data).hexdigest()})
    with pytest.raises(StudioUnavailable, match="sha1"):
        verify_integrity(data, {"shasum": "0" * 40})
    with pytest.raises(StudioUnavailable, match="no integrity"):
        verify_integrity(data, {})


def test_studio_command_exits_2_when_the_registry_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MASTRA_NPM_REGISTRY", "http://127.0.0.1:9")
    config = Path(__file__).resolve().parents[3] / "config" / "default.toml"
    assert main([str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "mastra studio: Studio could not be fetched: cannot reach the npm registry"
    )
    assert "--studio-dir" in err


def test_studio_command_refuses_a_directory_without_studio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(__file__).resolve().parents[3] / "config" / "default.toml"
    assert main([str(config), "--studio-dir", str(tmp_path)]) == 2
    assert "--studio-dir:" in capsys.readouterr().err


def test_studio_command_needs_an_http_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "studio" / "assets").mkdir(parents=True)
    (tmp_path / "studio" / "index.html").write_text("<html></html>")
    config = tmp_path / "c.toml"
    config.write_text("[telemetry]\nenabled = true\n")
    assert main([str(config), "--studio-dir", str(tmp_path / "studio")]) == 2
    assert "declares no HTTP server" in capsys.readouterr().err
