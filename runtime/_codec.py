"""msgpack and JSON codecs for messages that cross a process boundary.

Inside one process messages stay Python objects; this module is what lets an actor live in
another process later. Encoders are built once; decoders are cached per message type.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import msgspec

__all__ = ["decode_json", "decode_msgpack", "encode_json", "encode_msgpack"]

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
