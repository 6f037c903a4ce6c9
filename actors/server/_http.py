"""Request decoding and JSON responses shared by every route.

Bodies are decoded by msgspec decoders built once per type. A malformed or invalid body
raises ``BadRequest``, which the app turns into HTTP 400 ``{"error", "issues"}``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from actors.server.config import TokenConfig, TokenScope

__all__ = [
    "BadRequest",
    "Issue",
    "NotFound",
    "allowed",
    "decode_body",
    "decode_json",
    "json_response",
]

T = TypeVar("T")
_encoder = msgspec.json.Encoder()
_MISSING = re.compile(r"missing required field `([^`]+)`")
_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """One problem with a request: the field (dotted path) and what was wrong."""

    field: str
    message: str
    path: str


class BadRequest(Exception):
    """A user's request was wrong: becomes HTTP 400 with the issues listed."""

    def __init__(self, issues: list[Issue], error: str = "Invalid request body") -> None:
        super().__init__(error)
        self.error = error
        self.issues = issues


class NotFound(Exception):
    """A named thing does not exist: becomes HTTP 404 ``{"error": message}``."""


def allowed(request: Request, kind: TokenScope, name: str) -> bool:
    """Whether the request's bearer token (if the server checks tokens) may use ``name``
    of the kind ``kind``; listings show only what it may use."""
    token: TokenConfig | None = request.scope.get("state", {}).get("token")
    return token is None or token.allows(kind, name)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded with msgspec."""
    return Response(
        _encoder.encode(data), status_code=status, media_type="application/json", headers=headers
    )


@lru_cache(maxsize=256)
def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(tp)


def issue_from_validation(exc: msgspec.ValidationError) -> Issue:
    """Turn msgspec's ``... - at `$.a.b``` message into an issue naming ``a.b``."""
    match = _PATH.match(str(exc))
    assert match is not None
    path = match.group("path") or ""
    missing = _MISSING.search(match.group("message"))
    if missing is not None:  # msgspec names a missing field in the message, not the path
        path = f"{path}.{missing.group(1)}"
    field = path.lstrip(".").replace("[", ".").replace("]", "") or "body"
    return Issue(field=field, message=match.group("message"), path=f"${path}")


async def decode_body(request: Request, tp: type[T]) -> T:
    """Read and decode the JSON body into ``tp``; raises ``BadRequest`` naming the field."""
    return decode_json(await request.body(), tp)


def decode_json(body: bytes, tp: type[T]) -> T:
    """Decode JSON ``body`` (empty: ``{}``) into ``tp``; raises ``BadRequest`` naming the
    field."""
    try:
        result: T = _decoder(tp).decode(body or b"{}")  # type: ignore[arg-type]
    except msgspec.ValidationError as exc:
        raise BadRequest([issue_from_validation(exc)]) from None
    except msgspec.DecodeError as exc:
        raise BadRequest([Issue(field="body", message=str(exc), path="$")]) from None
    except UnicodeDecodeError as exc:
        raise BadRequest([_invalid_utf8(body, exc)]) from None
    return result


def _invalid_utf8(body: bytes, exc: UnicodeDecodeError) -> Issue:
    """Name the string holding bytes that are not UTF-8 (msgspec only says where they are):
    decode with replacement characters and find the first string that has one."""
    message = f"invalid UTF-8 at byte {exc.start}"
    try:
        data = msgspec.json.decode(body.decode("utf-8", errors="replace"))
    except msgspec.DecodeError:
        return Issue(field="body", message=message, path="$")
    path = _path_of_replacement(data, "")
    field = (path or "").lstrip(".").replace("[", ".").replace("]", "") or "body"
    return Issue(field=field, message=message, path=f"${path or ''}")


def _path_of_replacement(value: Any, path: str) -> str | None:
    """The path of the first string (or object key) holding U+FFFD, or None."""
    if isinstance(value, str):
        return path if "\ufffd" in value else None
    children: list[tuple[str, Any]]
    if isinstance(value, dict):
        children = [(f".{k}", v) for k, v in value.items()]
    elif isinstance(value, list):
        children = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for step, child in children:
        if "\ufffd" in step:
            return path + step
        found = _path_of_replacement(child, path + step)
        if found is not None:
            return found
    return None
