# ruff: noqa: E501
"""Recorded vendor streams (bytes as the vendors send them), used for split tests."""

from __future__ import annotations

_OPENAI_EVENTS = [
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"content":"Grüße, "},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"content":"世界 👋"},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_Ab12","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"ci"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Cd34","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\\": \\"Zürich\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\\"tz\\": \\"CET\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}',
    '{"id":"chatcmpl-rec1","object":"chat.completion.chunk","created":1764000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_rec","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}',
]

OPENAI_STREAM = ("".join(f"data: {e}\n\n" for e in _OPENAI_EVENTS) + "data: [DONE]\n\n").encode()
"""A chat completion stream: text with multi-byte characters, two interleaved tool calls,
the usage chunk and ``[DONE]``."""

_ANTHROPIC_EVENTS = [
    (
        "message_start",
        '{"type":"message_start","message":{"id":"msg_rec1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}}',
    ),
    (
        "content_block_start",
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
    ),
    ("ping", '{"type": "ping"}'),
    (
        "content_block_delta",
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, ich prüfe "}}',
    ),
    (
        "content_block_delta",
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"das Wetter ☀️"}}',
    ),
    ("content_block_stop", '{"type":"content_block_stop","index":0}'),
    (
        "content_block_start",
        '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x","name":"get_weather","input":{}}}',
    ),
    (
        "content_block_delta",
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}',
    ),
    (
        "content_block_delta",
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\": \\"Mün"}}',
    ),
    (
        "content_block_delta",
        '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"chen\\", \\"unit\\": \\"c\\"}"}}',
    ),
    ("content_block_stop", '{"type":"content_block_stop","index":1}'),
    (
        "message_delta",
        '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}',
    ),
    ("message_stop", '{"type":"message_stop"}'),
]

ANTHROPIC_STREAM = "".join(f"event: {n}\ndata: {d}\n\n" for n, d in _ANTHROPIC_EVENTS).encode()
"""A Messages stream: text, a ping, a tool use with ``input_json_delta`` pieces."""
