"""What Studio asks about the server itself: auth capabilities (none: this server guards
``/api`` with bearer tokens, not logins), the current user (nobody) and the system's
packages, which also say whether traces are kept for the observability pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import runtime
from actors.server._context import AppContext
from actors.server._http import json_response

__all__ = ["routes"]


async def auth_capabilities(_: Request) -> Response:
    """``{"enabled": false, "login": null}``: no login flow; Studio shows every page."""
    return json_response({"enabled": False, "login": None})


async def current_user(_: Request) -> Response:
    """``null``: there are no user accounts."""
    return json_response(None)


async def system_packages(request: Request) -> Response:
    """The runtime's package and version; ``observabilityEnabled`` while an
    ``observability`` actor keeps traces."""
    rt = AppContext.of(request).rt
    traced = rt.lookup("observability", kind="observability") is not None
    return json_response(
        {
            "packages": [{"name": "mastra-runtime", "version": runtime.__version__}],
            "isDev": False,
            "observabilityEnabled": traced,
            "cmsEnabled": False,
        }
    )


def routes() -> list[Route]:
    """The system routes."""
    return [
        Route("/api/auth/capabilities", auth_capabilities, methods=["GET"]),
        Route("/api/auth/me", current_user, methods=["GET"]),
        Route("/api/system/packages", system_packages, methods=["GET"]),
    ]
