"""Messages an agent actor understands, its results, and the chunks of its streams.

Chunk Structs are tagged by ``type`` with Mastra's chunk names (``start``, ``step-start``,
``text-start``, ``text-delta``, ``text-end``, ``tool-call``, ``tool-result``,
``step-finish``, ``finish``, ``error``), so the HTTP layer maps each one to one SSE event.
"""

from __future__ import annotations

from typing import Any

import msgspec

from actors.llm.messages import ChatMessage, FinishReason, ToolChoice, Usage
from actors.memory.options import Memory

__all__ = [
    "AgentChunk",
    "AgentError",
    "AgentFinish",
    "AgentInfo",
    "AgentStart",
    "DescribeAgent",
    "Generate",
    "GenerateResult",
    "MemoryTarget",
    "StepFinish",
    "StepResult",
    "StepStart",
    "StreamGenerate",
    "StructuredOutput",
    "TextEnd",
    "TextStart",
    "TextStreamDelta",
    "ToolCallChunk",
    "ToolCallRecord",
    "ToolResultChunk",
    "ToolResultRecord",
]


class _Struct(msgspec.Struct, frozen=True, kw_only=True):
    pass


class MemoryTarget(_Struct, frozen=True):
    """The conversation a turn belongs to: ``thread`` of the user ``resource``."""

    thread: str
    resource: str


class StructuredOutput(_Struct, frozen=True):
    """Ask for a JSON answer valid against ``schema`` (one repair attempt when it is not)."""

    schema: dict[str, Any]
    name: str = "response"


class _Options(_Struct, frozen=True):
    messages: list[ChatMessage]
    run_id: str
    memory: MemoryTarget | None = None
    max_steps: int | None = None
    structured_output: StructuredOutput | None = None
    tool_choice: ToolChoice | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    request_context: dict[str, Any] = {}

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("messages: at least one message is required")
        if self.max_steps is not None and self.max_steps <= 0:
            raise ValueError("max_steps: must be positive")
        if not self.run_id:
            raise ValueError("run_id: must not be empty")


class Generate(_Options, frozen=True, tag=True):
    """Run one turn; ``ask`` replies a ``GenerateResult``. ``run_id`` names the turn: asking
    again with the same ``run_id`` stores the turn's messages under the same ids."""


class StreamGenerate(_Options, frozen=True, tag=True):
    """Run one turn through ``stream``: ``AgentChunk`` values as they are produced."""


class DescribeAgent(_Struct, frozen=True, tag=True):
    """Ask an agent actor for its ``AgentInfo``."""


class AgentInfo(_Struct, frozen=True):
    """What the HTTP API lists about an agent (instructions as given to an empty context)."""

    name: str
    instructions: str
    model: str
    fallbacks: list[str]
    tools: list[str]
    description: str = ""
    memory: bool = False
    max_steps: int = 5
    memory_options: Memory | None = None
    """The agent's memory options (None without memory)."""


class ToolCallRecord(_Struct, frozen=True):
    """A tool call the model made, with its decoded arguments."""

    tool_call_id: str
    tool_name: str
    args: Any


class ToolResultRecord(_Struct, frozen=True):
    """The outcome of a tool call: ``result`` when ``ok``, else the error text in ``error``."""

    tool_call_id: str
    tool_name: str
    args: Any
    result: Any = None
    ok: bool = True
    error: str | None = None


class StepResult(_Struct, frozen=True):
    """One model call of a turn and the tool calls it led to."""

    step: int
    text: str
    tool_calls: list[ToolCallRecord]
    tool_results: list[ToolResultRecord]
    finish_reason: FinishReason
    usage: Usage
    model: str = ""


class GenerateResult(_Struct, frozen=True):
    """The answer of a turn: final text (and ``object`` with structured output), every step,
    usage summed over steps, and the messages the turn added to the conversation."""

    run_id: str
    text: str
    finish_reason: FinishReason
    usage: Usage
    steps: list[StepResult]
    messages: list[ChatMessage]
    model: str = ""
    object: Any = None

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """Every tool call of the turn, in order."""
        return [call for step in self.steps for call in step.tool_calls]

    @property
    def tool_results(self) -> list[ToolResultRecord]:
        """Every tool result of the turn, in order."""
        return [result for step in self.steps for result in step.tool_results]


# -- stream chunks ------------------------------------------------------------------------


class AgentStart(_Struct, frozen=True, tag_field="type", tag="start"):
    """The turn started."""

    run_id: str
    agent: str


class StepStart(_Struct, frozen=True, tag_field="type", tag="step-start"):
    """A model call started."""

    run_id: str
    step: int


class TextStart(_Struct, frozen=True, tag_field="type", tag="text-start"):
    """The model began writing text in this step."""

    run_id: str
    id: str


class TextStreamDelta(_Struct, frozen=True, tag_field="type", tag="text-delta"):
    """More text, as the model produced it."""

    run_id: str
    id: str
    text: str


class TextEnd(_Struct, frozen=True, tag_field="type", tag="text-end"):
    """The text of this step is complete."""

    run_id: str
    id: str


class ToolCallChunk(_Struct, frozen=True, tag_field="type", tag="tool-call"):
    """The model called a tool (arguments complete)."""

    run_id: str
    call: ToolCallRecord


class ToolResultChunk(_Struct, frozen=True, tag_field="type", tag="tool-result"):
    """A tool call finished (or failed with an error the model will read)."""

    run_id: str
    result: ToolResultRecord


class StepFinish(_Struct, frozen=True, tag_field="type", tag="step-finish"):
    """A step ended; ``is_continued`` when another model call follows."""

    run_id: str
    step: StepResult
    is_continued: bool


class AgentFinish(_Struct, frozen=True, tag_field="type", tag="finish"):
    """The turn ended; ``result`` is what ``generate`` would have answered."""

    run_id: str
    result: GenerateResult


class AgentError(_Struct, frozen=True, tag_field="type", tag="error"):
    """The turn failed; the stream raises the error right after this chunk."""

    run_id: str
    message: str
    kind: str = "error"


AgentChunk = (
    AgentStart
    | StepStart
    | TextStart
    | TextStreamDelta
    | TextEnd
    | ToolCallChunk
    | ToolResultChunk
    | StepFinish
    | AgentFinish
    | AgentError
)
