"""Tools: plain Python functions (sync or async) that models and clients can call.

```python
@tool
async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> Weather:
    \"\"\"Current weather for a city.

    Args:
        city: the city name, e.g. "Paris".
    \"\"\"
```

The schema comes from the type hints, the description from the docstring. Invalid
arguments, exceptions and timeouts become ``ToolResult`` errors a model can read.
"""

from actors.tools._actor import ToolActor, ToolRef
from actors.tools._tool import Tool, ToolContext, tool
from actors.tools.messages import (
    DescribeTool,
    ExecuteTool,
    FieldError,
    ToolError,
    ToolInfo,
    ToolResult,
)

__all__ = [
    "DescribeTool",
    "ExecuteTool",
    "FieldError",
    "Tool",
    "ToolActor",
    "ToolContext",
    "ToolError",
    "ToolInfo",
    "ToolRef",
    "ToolResult",
    "tool",
]
