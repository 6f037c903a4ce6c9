"""Mastra Studio, the web UI of ``mastra dev``, served by our own HTTP server.

``ensure_studio`` fetches the built app of a pinned ``mastra`` release from the npm
registry into a cache directory once; the server serves it at ``/`` when its
``studio_dir`` option names that directory.
"""

from actors.studio._fetch import (
    STUDIO_VERSION,
    StudioUnavailable,
    default_cache_root,
    ensure_studio,
    registry_url,
    studio_ready,
    verify_integrity,
)

__all__ = [
    "STUDIO_VERSION",
    "StudioUnavailable",
    "default_cache_root",
    "ensure_studio",
    "registry_url",
    "studio_ready",
    "verify_integrity",
]
