"""msgpack and JSON codecs for messages that cross a process boundary.

Inside one process messages stay Python objects; this module is what lets an actor live in
another process later. Encoders are built once; decoders are cached per message type.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import msgspec

__all__ = [
    "WireEnvelope",
    "WireMessage",
    "WireReply",
    "decode_json",
    "decode_msgpack",
    "encode_json",
    "encode_msgpack",
]

T = TypeVar("T")

_msgpack_encoder = msgspec.msgpack.Encoder()
_json_encoder = msgspec.json.Encoder()


@lru_cache(maxsize=512)
def _msgpack_decoder(tp: Any) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(tp)


@lru_cache(maxsize=512)
def _json_decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(tp)


def encode_msgpack(msg: object) -> bytes:
    """Encode a message (a Struct, or a union member) to msgpack bytes."""
    return _msgpack_encoder.encode(msg)


def decode_msgpack(data: bytes, tp: type[T] | Any) -> T:
    """Decode msgpack bytes into ``tp`` (a Struct type or a tagged union of Structs).

    Raises ``msgspec.ValidationError`` naming the ``$.path`` of a bad field.
    """
    decoder = _msgpack_decoder(tp)  # type: ignore[arg-type]
    result: T = decoder.decode(data)
    return result


def encode_json(msg: object) -> bytes:
    """Encode a message to JSON bytes."""
    return _json_encoder.encode(msg)


def decode_json(data: bytes | str, tp: type[T] | Any) -> T:
    """Decode JSON into ``tp``; raises ``msgspec.ValidationError`` naming the bad field."""
    decoder = _json_decoder(tp)  # type: ignore[arg-type]
    result: T = decoder.decode(data)
    return result


class WireEnvelope(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """An envelope as it crosses a process boundary.

    ``payload`` is the msgpack-encoded message, ``sender`` and ``target`` are registered
    names (``kind:name``), ``reply_to`` correlates a reply with its ask (None for a tell),
    ``deadline`` is seconds since the epoch (None for none).
    """

    target: str
    payload: bytes
    sender: str | None = None
    reply_to: int | None = None
    traceparent: str | None = None
    deadline: float | None = None
    stream: bool = False


class WireReply(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The answer to a ``WireEnvelope`` ask: a payload, or an error type and message."""

    reply_to: int
    payload: bytes | None = None
    error_type: str | None = None
    error: str | None = None
    final: bool = True


WireMessage = WireEnvelope | WireReply
"""The kernel's own messages on the wire, decoded as one tagged union."""
