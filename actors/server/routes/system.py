"""What Studio asks about the server itself: auth capabilities (none: this server guards
``/api`` with bearer tokens, not logins), the current user (nobody), the system's
packages (which also say whether traces are kept for the observability pages), the model
providers, and the agent builder's settings (there is no builder)."""

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


async def model_providers(request: Request) -> Response:
    """The configured model provider actors: ``{"providers": [{id, name, label, connected,
    models}]}`` (a provider's models are whatever its agents name, so none are listed)."""
    rt = AppContext.of(request).rt
    providers = [
        {"id": name, "name": name, "label": name, "connected": True, "models": []}
        for name in sorted(rt.actors("provider"))
    ]
    return json_response({"providers": providers})


async def builder_settings(_: Request) -> Response:
    """The agent builder is not available: no model policy, no picker limits."""
    return json_response({"enabled": False, "modelPolicy": {"active": False}, "picker": None})


async def builder_models(_: Request) -> Response:
    """No models to offer an agent builder."""
    return json_response({"providers": []})


def routes() -> list[Route]:
    """The system routes; ``/api/agents/providers`` must come before the agent routes."""
    return [
        Route("/api/agents/providers", model_providers, methods=["GET"]),
        Route("/api/editor/builder/settings", builder_settings, methods=["GET"]),
        Route("/api/editor/builder/models/available", builder_models, methods=["GET"]),
        Route("/api/auth/capabilities", auth_capabilities, methods=["GET"]),
        Route("/api/auth/me", current_user, methods=["GET"]),
        Route("/api/system/packages", system_packages, methods=["GET"]),
    ]
