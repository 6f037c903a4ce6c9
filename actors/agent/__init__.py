"""Agents: a model with instructions, tools and memory, run as an actor (kind ``"agent"``).

```python
helper = Agent(name="helper", instructions="Answer briefly.", model="scripted", tools=[add])
agent = await rt.spawn(helper)
reply = await agent.generate("add 2 and 40")
async with agent.stream("hello") as chunks:
    async for chunk in chunks: ...
```
"""

from actors.agent._ref import AgentRef
from actors.agent._structured import StructuredOutputError, parse_structured, schema_for
from actors.agent.messages import (
    AgentChunk,
    AgentError,
    AgentFinish,
    AgentInfo,
    AgentStart,
    DescribeAgent,
    Generate,
    GenerateResult,
    MemoryTarget,
    StepFinish,
    StepResult,
    StepStart,
    StreamGenerate,
    StructuredOutput,
    TextEnd,
    TextStart,
    TextStreamDelta,
    ToolCallChunk,
    ToolCallRecord,
    ToolResultChunk,
    ToolResultRecord,
)
from actors.agent.spec import Agent, Instructions

__all__ = [
    "Agent",
    "AgentChunk",
    "AgentError",
    "AgentFinish",
    "AgentInfo",
    "AgentRef",
    "AgentStart",
    "DescribeAgent",
    "Generate",
    "GenerateResult",
    "Instructions",
    "MemoryTarget",
    "StepFinish",
    "StepResult",
    "StepStart",
    "StreamGenerate",
    "StructuredOutput",
    "StructuredOutputError",
    "TextEnd",
    "TextStart",
    "TextStreamDelta",
    "ToolCallChunk",
    "ToolCallRecord",
    "ToolResultChunk",
    "ToolResultRecord",
    "parse_structured",
    "schema_for",
]
