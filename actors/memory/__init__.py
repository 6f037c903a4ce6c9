"""Agent memory: threads of messages per resource (a user), semantic recall, working memory.

``Memory`` holds the options an agent is given; ``MemoryClient`` loads a turn's context from
the store actors and appends the turn exactly once (message ids derive from the turn id).
"""

from actors.memory._client import MemoryClient, MemoryContext, MemoryUnavailable, message_id
from actors.memory.options import Memory, Retention, SemanticRecall, WorkingMemory

__all__ = [
    "Memory",
    "MemoryClient",
    "MemoryContext",
    "MemoryUnavailable",
    "Retention",
    "SemanticRecall",
    "WorkingMemory",
    "message_id",
]
