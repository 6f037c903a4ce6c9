"""Fetch Mastra Studio's built single-page app from the npm registry, once per version.

Studio ships in the ``mastra`` npm package under ``dist/studio``. ``ensure_studio`` reads
the package's registry metadata, downloads the tarball, checks it against the metadata's
``integrity`` (Subresource Integrity, ``sha512-<base64>``; ``shasum`` when there is none),
and unpacks only ``dist/studio`` into ``<cache>/<version>`` through a temporary directory
renamed into place, so a half-finished fetch never looks like a finished one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "STUDIO_VERSION",
    "StudioUnavailable",
    "default_cache_root",
    "ensure_studio",
    "registry_url",
    "studio_ready",
    "verify_integrity",
]

STUDIO_VERSION = "1.31.0"
"""The ``mastra`` release whose Studio is served; its API calls are what the server mirrors."""

_PREFIX = "package/dist/studio/"
_MAX_TARBALL = 64 * 1024 * 1024


class StudioUnavailable(Exception):
    """Studio could not be fetched: the registry is unreachable, answered an error, or sent
    a tarball that fails its integrity check. The message says which and what to do."""


def registry_url() -> str:
    """The npm registry to fetch from: ``MASTRA_NPM_REGISTRY``, else ``NPM_CONFIG_REGISTRY``
    (npm's own setting), else the public registry."""
    url = os.environ.get("MASTRA_NPM_REGISTRY") or os.environ.get("NPM_CONFIG_REGISTRY")
    return (url or "https://registry.npmjs.org").rstrip("/")


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/mastra-runtime/studio`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mastra-runtime" / "studio"


def studio_ready(directory: Path) -> bool:
    """Whether ``directory`` holds an unpacked Studio (its ``index.html`` and ``assets``)."""
    return (directory / "index.html").is_file() and (directory / "assets").is_dir()


def verify_integrity(data: bytes, dist: dict[str, Any]) -> None:
    """Check ``data`` against the registry's ``dist`` metadata; raises ``StudioUnavailable``
    when it does not match or the metadata has no usable digest."""
    integrity = dist.get("integrity")
    if isinstance(integrity, str) and "-" in integrity:
        for entry in integrity.split():
            algorithm, _, expected = entry.partition("-")
            if algorithm in {"sha512", "sha384", "sha256"}:
                got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
                if got != expected:
                    raise StudioUnavailable(f"the tarball fails its {algorithm} integrity check")
                return
    shasum = dist.get("shasum")
    if isinstance(shasum, str):
        if hashlib.sha1(data).hexdigest() != shasum:
            raise StudioUnavailable("the tarball fails its sha1 check")
        return
    raise StudioUnavailable("the registry metadata has no integrity hash for the tarball")


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise StudioUnavailable(
            f"cannot reach the npm registry ({url}): {exc}; "
            "connect to the network once, or pass --studio-dir with an unpacked dist/studio"
        ) from None
    if response.status_code != 200:
        raise StudioUnavailable(f"the npm registry answered {response.status_code} for {url}")
    return response


def _download(version: str, registry: str, timeout: float) -> bytes:
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        meta = _get(client, f"{registry}/mastra/{version}").json()
        dist = meta.get("dist") if isinstance(meta, dict) else None
        if not isinstance(dist, dict) or not isinstance(dist.get("tarball"), str):
            raise StudioUnavailable(f"the registry metadata of mastra@{version} has no tarball")
        data = _get(client, dist["tarball"]).content
    if len(data) > _MAX_TARBALL:
        raise StudioUnavailable(f"the tarball is larger than {_MAX_TARBALL} bytes")
    verify_integrity(data, dist)
    return data


def _unpack(data: bytes, into: Path) -> None:
    """Write the regular files under ``dist/studio`` to ``into``; any other member, and any
    path that would leave ``into``, is skipped."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith(_PREFIX):
                continue
            relative = Path(member.name[len(_PREFIX) :])
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                continue
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)


def ensure_studio(
    version: str = STUDIO_VERSION,
    cache_root: Path | None = None,
    *,
    registry: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """The directory of Studio ``version``, fetched and unpacked on first use.

    Blocking (network and disk): call it before ``trio.run`` or in a worker thread.
    Raises ``StudioUnavailable`` when it is not cached and cannot be fetched; a failed
    fetch leaves nothing behind.
    """
    root = cache_root if cache_root is not None else default_cache_root()
    target = root / version
    if studio_ready(target):
        return target
    data = _download(version, registry or registry_url(), timeout)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    try:
        _unpack(data, staging)
        if not studio_ready(staging):
            raise StudioUnavailable(f"mastra@{version} has no dist/studio in its tarball")
        if target.exists() and not studio_ready(target):
            shutil.rmtree(target)  # an earlier, incomplete copy
        try:
            staging.rename(target)
        except OSError:
            if not studio_ready(target):  # not another process's finished copy
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
