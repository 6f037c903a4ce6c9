"""The hash embedder: deterministic, offline text vectors by feature hashing.

Each lower-cased word (weight 1) and each pair of adjacent words (weight 0.5) is hashed with
BLAKE2b into one of ``dimension`` buckets with a sign; the vector is L2-normalised. Texts
that share words get a positive cosine similarity; the same text always gets the same vector,
across processes and machines. It is not a learned model and knows no synonyms.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

import trio

from actors.llm._client import Emit
from actors.llm._config import HashEmbedConfig
from actors.llm._errors import BadRequestError
from actors.llm._telemetry import GenAITelemetry
from actors.llm.messages import ChatRequest, ChatResult, EmbeddingResult, EmbedRequest, Usage

__all__ = ["HashEmbedder", "hash_embed"]

PROVIDER = "hash"
_WORD = re.compile(r"\w+")


def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    index = int.from_bytes(digest[:4], "little") % dimension
    return index, 1.0 if digest[4] & 1 else -1.0


def hash_embed(text: str, dimension: int) -> list[float]:
    """The unit vector of ``text`` (a text without words hashes a fixed placeholder)."""
    words = _WORD.findall(text.lower()) or ["\0empty"]
    vector = [0.0] * dimension
    for word in words:
        index, sign = _bucket(word, dimension)
        vector[index] += sign
    for first, second in itertools.pairwise(words):
        index, sign = _bucket(f"{first} {second}", dimension)
        vector[index] += 0.5 * sign
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        index, _ = _bucket("\0empty", dimension)
        vector[index] = 1.0
        return vector
    return [v / norm for v in vector]


class HashEmbedder:
    """The ``ModelClient`` of the hash embedder (no chat: use a chat provider)."""

    provider = PROVIDER

    def __init__(self, config: HashEmbedConfig, telemetry: GenAITelemetry | None = None) -> None:
        self.config = config
        self.telemetry = telemetry or GenAITelemetry(PROVIDER)

    async def embed(self, request: EmbedRequest) -> EmbeddingResult:
        """Vectors of ``request.dimensions`` (default: the configured dimension).

        Runs on the Trio thread with a checkpoint between inputs, so a large batch stays
        cancellable and does not starve other tasks.
        """
        dimension = request.dimensions or self.config.dimension
        model = request.model or self.config.model
        with self.telemetry.operation("embeddings", model) as record:
            vectors = []
            for text in request.inputs:
                await trio.lowlevel.checkpoint()
                vectors.append(hash_embed(text, dimension))
            tokens = sum(len(_WORD.findall(t)) for t in request.inputs)
            usage = Usage(input_tokens=tokens)
            record.response(model, None, [], usage)
        return EmbeddingResult(vectors=vectors, model=model, provider=PROVIDER, usage=usage)

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Always fails: an embedder does not chat."""
        raise BadRequestError("the hash embedder cannot chat", provider=PROVIDER)

    async def stream(self, request: ChatRequest, emit: Emit) -> ChatResult:
        """Always fails (after a ``StreamError`` chunk): an embedder does not chat."""
        error = BadRequestError("the hash embedder cannot chat", provider=PROVIDER)
        await emit(error.to_chunk(delivered=False))
        raise error

    async def aclose(self) -> None:
        """Nothing to release."""
