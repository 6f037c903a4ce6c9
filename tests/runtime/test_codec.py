from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import ActorStats, RuntimeConfig, SupervisionConfig, TelemetryConfig
from runtime._codec import (
    WireEnvelope,
    WireMessage,
    WireReply,
    decode_json,
    decode_msgpack,
    encode_json,
    encode_msgpack,
)
from tests.runtime.actors_for_tests import Boom, Chunks, Get, Put, Sleep

text = st.text(max_size=40)
finite = st.floats(allow_nan=False, allow_infinity=False)

wire_envelopes = st.builds(
    WireEnvelope,
    target=text,
    payload=st.binary(max_size=64),
    sender=st.none() | text,
    reply_to=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    traceparent=st.none() | text,
    deadline=st.none() | finite,
    stream=st.booleans(),
)
wire_replies = st.builds(
    WireReply,
    reply_to=st.integers(min_value=0, max_value=2**63 - 1),
    payload=st.none() | st.binary(max_size=64),
    error_type=st.none() | text,
    error=st.none() | text,
    final=st.booleans(),
)
stats = st.builds(
    ActorStats,
    name=text,
    kind=text,
    status=st.sampled_from(["starting", "running", "restarting", "stopping", "stopped"]),
    mailbox=st.integers(min_value=0, max_value=10**6),
    capacity=st.integers(min_value=1, max_value=10**6),
    handled=st.integers(min_value=0, max_value=2**63 - 1),
    failed=st.integers(min_value=0, max_value=2**63 - 1),
    restarts=st.integers(min_value=0, max_value=2**63 - 1),
    in_flight=st.integers(min_value=0, max_value=2**63 - 1),
)
supervision = st.builds(
    SupervisionConfig,
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]),
    max_restarts=st.integers(min_value=0, max_value=1000),
    within=st.floats(min_value=0.001, max_value=3600),
    backoff_base=st.floats(min_value=0, max_value=10),
    backoff_max=st.floats(min_value=0, max_value=60),
    grace=st.floats(min_value=0, max_value=60),
)
user_messages = st.one_of(
    st.builds(Put, sender=text, seq=st.integers(-(2**63), 2**63 - 1)),
    st.just(Get()),
    st.just(Boom()),
    st.builds(Sleep, seconds=finite),
    st.builds(Chunks, count=st.integers(0, 2**31), fail_at=st.integers(-1, 2**31)),
)
UserMessage = Put | Get | Boom | Sleep | Chunks


def _round_trips(value: Any, tp: Any) -> None:
    assert decode_msgpack(encode_msgpack(value), tp) == value
    assert decode_json(encode_json(value), tp) == value


@given(wire_envelopes | wire_replies)
def test_wire_messages_round_trip(msg: WireEnvelope | WireReply) -> None:
    _round_trips(msg, WireMessage)


@given(stats)
def test_actor_stats_round_trip(value: ActorStats) -> None:
    _round_trips(value, ActorStats)


@given(supervision)
def test_supervision_config_round_trips(value: SupervisionConfig) -> None:
    _round_trips(value, SupervisionConfig)
    config = RuntimeConfig(telemetry=TelemetryConfig(sampling=0.5))
    _round_trips(config, RuntimeConfig)


@given(user_messages)
def test_tagged_user_messages_round_trip_as_a_union(msg: Any) -> None:
    _round_trips(msg, UserMessage)


def test_a_wire_envelope_carries_a_nested_message() -> None:
    inner = Put(sender="a", seq=7)
    env = WireEnvelope(target="actor:rec", payload=encode_msgpack(inner), deadline=math.pi)
    back: WireEnvelope | WireReply = decode_msgpack(encode_msgpack(env), WireMessage)
    assert isinstance(back, WireEnvelope)
    assert decode_msgpack(back.payload, UserMessage) == inner


def test_decoding_errors_name_the_field() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.seq"):
        decode_json(b'{"type": "Put", "sender": "a", "seq": "x"}', UserMessage)
