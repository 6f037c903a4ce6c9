"""The scripted model: a deterministic, offline stand-in for a model. It is NOT a language
model; it answers by rules (``ScriptedConfig``) so agents, tools and servers can be run and
tested without a network.

How an answer is chosen: the first rule whose ``match`` regex is found in the last user
message (a rule without ``match`` always matches; a rule whose first turn calls a tool the
request does not offer is skipped). The n-th call after the last user message answers the
rule's ``turns[n]`` (the last turn repeats), so a tool round trip is: call 1 returns the tool
call, call 2 (which carries the tool result) returns ``turns[1]``.

Templates (``string.Template``): ``$user`` the last user text, ``$tool_result`` the last tool
result, ``$tool_<key>`` a key of a JSON-object tool result, and the rule's named groups.

The built-in ``echo`` script mirrors the reference mock model: ``add 2 and 40`` calls the
``add`` tool with ``{"a": 2, "b": 40}`` and then answers ``The sum is 42.``; anything else
answers ``Echo: <last user text>``, streamed word by word. Usage counts are estimates
(4 characters a token).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from string import Template
from typing import Any

import msgspec
import trio

from actors.llm._client import Emit
from actors.llm._config import ScriptedConfig, ScriptedToolCall, ScriptedTurn, ScriptRule
from actors.llm._errors import BadRequestError, ProviderError, error_for_kind
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import (
    AssistantMessage,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Finish,
    StreamChunk,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolMessage,
    Usage,
    UsageChunk,
    UserMessage,
    last_user_text,
)

__all__ = ["ECHO_RULES", "ScriptedModel"]

PROVIDER = "scripted"
_NUMBER = r"-?\d+(?:\.\d+)?"

ECHO_RULES: list[ScriptRule] = [
    ScriptRule(
        match=rf"(?i)\badd\s+(?P<a>{_NUMBER})\s+and\s+(?P<b>{_NUMBER})",
        turns=[
            ScriptedTurn(tool_calls=[ScriptedToolCall(name="add", arguments='{"a": $a, "b": $b}')]),
            ScriptedTurn(text="The sum is $tool_sum."),
        ],
    ),
    ScriptRule(turns=[ScriptedTurn(text="Echo: $user")]),
]
"""The rules of the built-in ``echo`` script."""


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _calls_since_user(request: ChatRequest) -> int:
    count = 0
    for message in reversed(request.messages):
        if isinstance(message, UserMessage):
            break
        if isinstance(message, AssistantMessage):
            count += 1
    return count


def _variables(request: ChatRequest, groups: dict[str, str]) -> dict[str, str]:
    values = {"user": last_user_text(request.messages), "tool_result": ""}
    tool = next((m for m in reversed(request.messages) if isinstance(m, ToolMessage)), None)
    if tool is not None:
        values["tool_result"] = tool.content
        try:
            parsed = json.loads(tool.content)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            for key, value in parsed.items():
                text = value if isinstance(value, str) else json.dumps(value)
                values[f"tool_{key}"] = text
    values.update(groups)
    return values


class ScriptedModel:
    """The ``ModelClient`` of the scripted model (no embeddings: use the hash embedder)."""

    provider = PROVIDER

    def __init__(self, config: ScriptedConfig, telemetry: GenAITelemetry | None = None) -> None:
        self.config = config
        self.telemetry = telemetry or GenAITelemetry(PROVIDER)
        self.rules = list(config.rules) + (ECHO_RULES if config.builtin == "echo" else [])
        if not self.rules:
            raise ValueError("rules: the scripted model needs rules or builtin = 'echo'")
        self._compiled = [(re.compile(r.match) if r.match else None, r) for r in self.rules]
        self._ids = itertools.count(1)

    def _pick(self, request: ChatRequest) -> tuple[ScriptedTurn, dict[str, str]]:
        text = last_user_text(request.messages)
        offered = {t.name for t in request.tools}
        for pattern, rule in self._compiled:
            found = pattern.search(text) if pattern is not None else None
            if pattern is not None and found is None:
                continue
            if any(c.name not in offered for c in rule.turns[0].tool_calls):
                continue
            index = min(_calls_since_user(request), len(rule.turns) - 1)
            groups = {k: v for k, v in (found.groupdict() if found else {}).items() if v}
            return rule.turns[index], groups
        raise BadRequestError(
            "no script rule matches the conversation (add a rule without `match`)",
            provider=PROVIDER,
        )

    def answer(self, request: ChatRequest) -> ChatResult:
        """The scripted answer to ``request`` (what ``chat`` returns, without telemetry).

        Raises the turn's ``error`` kind, or ``BadRequestError`` when no rule matches or a
        tool-call template is not valid JSON.
        """
        turn, groups = self._pick(request)
        if turn.error is not None:
            raise error_for_kind(turn.error, "scripted failure", provider=PROVIDER)
        values = _variables(request, groups)
        serial = next(self._ids)
        calls = [_call(c, values, f"call-{serial}-{i}") for i, c in enumerate(turn.tool_calls)]
        if request.response_format is not None and turn.structured is not None:
            text = msgspec.json.encode(turn.structured).decode()
        else:
            text = Template(turn.text).safe_substitute(values)
        prompt = msgspec.json.encode(request.messages) + msgspec.json.encode(request.tools)
        out = text + "".join(c.arguments for c in calls)
        return ChatResult(
            text=text,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else (turn.finish_reason or "stop"),
            usage=Usage(input_tokens=_tokens(prompt.decode()), output_tokens=_tokens(out)),
            response_id=f"resp-{serial}",
            model=request.model or self.config.model,
            provider=PROVIDER,
        )

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Answer at once (a checkpoint, so cancellation is honoured)."""
        with self.telemetry.operation("chat", request.model or self.config.model) as record:
            await trio.lowlevel.checkpoint()
            result = self.answer(request)
            record.chat_result(result)
            return result

    async def stream(self, request: ChatRequest, emit: Emit) -> ChatResult:
        """Emit the answer in pieces (``chunking``, ``chunk_delay`` apart), then ``Finish``.

        A scripted error is emitted as ``StreamError`` and raised. Cancellation stops the
        stream between two chunks.
        """
        with self.telemetry.operation("chat", request.model or self.config.model) as record:
            try:
                result = self.answer(request)
            except ProviderError as exc:
                await emit(exc.to_chunk(delivered=False))
                raise
            for chunk in self._chunks(result):
                if self.config.chunk_delay:
                    await trio.sleep(self.config.chunk_delay)
                await emit(chunk)
            record.chat_result(result)
        await emit(Finish(result=result))
        return result

    def _chunks(self, result: ChatResult) -> list[StreamChunk]:
        chunks: list[StreamChunk] = [TextDelta(text=p) for p in self._split(result.text)]
        for index, call in enumerate(result.tool_calls):
            chunks.append(ToolCallStart(index=index, id=call.id, name=call.name))
            chunks.append(ToolCallDelta(index=index, arguments=call.arguments))
            chunks.append(ToolCallEnd(index=index, call=call))
        chunks.append(UsageChunk(usage=result.usage))
        return chunks

    def _split(self, text: str) -> list[str]:
        if not text:
            return []
        if self.config.chunking == "whole":
            return [text]
        if self.config.chunking == "char":
            return list(text)
        return re.findall(r"\S+\s*|\s+", text)

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Always fails: the scripted model does not embed (use the ``hash`` embedder)."""
        raise BadRequestError(
            "the scripted model has no embeddings; configure the hash embedder", provider=PROVIDER
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def _call(spec: ScriptedToolCall, values: dict[str, str], call_id: str) -> ToolCall:
    escaped = {k: json.dumps(v)[1:-1] for k, v in values.items()}
    text = Template(spec.arguments).safe_substitute(escaped)
    try:
        arguments: Any = json.loads(text)
    except ValueError as exc:
        raise BadRequestError(
            f"script tool call {spec.name}: arguments are not JSON after substitution: {exc}",
            provider=PROVIDER,
        ) from None
    return ToolCall(id=call_id, name=spec.name, arguments=msgspec.json.encode(arguments).decode())
