"""``/api/vector/:vectorName``: create, list, describe and delete indexes; upsert and query.

``vectorName`` names a vector store actor (kind ``store``). Store errors map to HTTP: a bad
field or filter 400 naming it, an unknown store or index 404, an index that exists with
another shape 409, a store that cannot commit 503.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.server._context import AppContext
from actors.server._http import BadRequest, Issue, NotFound, allowed, decode_body, json_response
from actors.stores import FilterError, IndexExists, InvalidRequest, StoreUnavailable, UnknownIndex
from actors.stores.vector_messages import (
    CreateIndex,
    DeleteIndex,
    DescribeIndex,
    IndexInfo,
    ListIndexes,
    Metric,
    Query,
    QueryResult,
    Upsert,
)
from runtime import ActorRef, UnhandledMessage

__all__ = ["routes"]

_FIELD = re.compile(r"`([^`]+)`")
_CAMEL = {"index_name": "indexName", "query_vector": "queryVector", "top_k": "topK"}
_CAMEL |= {"include_vector": "includeVector", "min_score": "minScore"}


class CreateIndexBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST create-index``."""

    indexName: Annotated[str, msgspec.Meta(min_length=1)]
    dimension: Annotated[int, msgspec.Meta(gt=0)]
    metric: Metric = "cosine"


class UpsertBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST upsert``: ``metadata[i]`` and ``ids[i]`` belong to ``vectors[i]``."""

    indexName: Annotated[str, msgspec.Meta(min_length=1)]
    vectors: list[list[float]]
    metadata: list[dict[str, Any]] | None = None
    ids: list[str] | None = None


class QueryBody(msgspec.Struct, frozen=True, kw_only=True):
    """``POST query``."""

    indexName: Annotated[str, msgspec.Meta(min_length=1)]
    queryVector: list[float]
    topK: Annotated[int, msgspec.Meta(ge=0)] = 10
    filter: dict[str, Any] | None = None
    includeVector: bool = False
    minScore: float | None = None


def _bad(field: str, message: str, path: str | None = None) -> BadRequest:
    issue = Issue(field=field, message=message, path=path or f"$.{field}")
    return BadRequest([issue], message)


def _store_issue(exc: InvalidRequest) -> BadRequest:
    """The store names the field in backticks (``top_k``, ``vectors[0]``, a filter path)."""
    message = str(exc)
    match = _FIELD.search(message)
    where = "" if match is None else match.group(1)
    if isinstance(exc, FilterError):
        where = "filter" + where.removeprefix("$")
    head, dot, tail = where.partition(".")
    head, bracket, rest = head.partition("[")
    path = _CAMEL.get(head, head) + bracket + rest + dot + tail
    if not path:
        return _bad("body", message, "$")
    return _bad(path.replace("[", ".").replace("]", ""), message, f"$.{path}")


@asynccontextmanager
async def _store(request: Request) -> AsyncIterator[ActorRef]:
    """The vector store named in the path, with its errors mapped to HTTP errors."""
    name = request.path_params["vector_name"]
    ref = AppContext.of(request).rt.lookup(name, kind="store")
    if ref is None:
        raise NotFound(f"Vector store {name} not found")
    try:
        yield ref
    except UnhandledMessage:  # a store of another sort
        raise NotFound(f"Vector store {name} not found") from None
    except UnknownIndex as exc:
        raise NotFound(str(exc)) from None
    except InvalidRequest as exc:
        raise _store_issue(exc) from None
    except IndexExists as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except StoreUnavailable as exc:
        raise HTTPException(503, detail=str(exc)) from None


def _check_lengths(body: UpsertBody) -> None:
    for field, values in (("metadata", body.metadata), ("ids", body.ids)):
        if values is not None and len(values) != len(body.vectors):
            message = f"has {len(values)} entries for {len(body.vectors)} vectors"
            raise _bad(field, f"`{field}` {message}")


async def create_index(request: Request) -> Response:
    """Create an index (a no-op if it exists with the same shape; 409 otherwise)."""
    body = await decode_body(request, CreateIndexBody)
    msg = CreateIndex(index_name=body.indexName, dimension=body.dimension, metric=body.metric)
    async with _store(request) as store:
        await store.ask(msg)
    return json_response({"success": True})


async def upsert(request: Request) -> Response:
    """Insert or replace vectors with their metadata; replies ``{ids}``."""
    body = await decode_body(request, UpsertBody)
    _check_lengths(body)
    msg = Upsert(
        index_name=body.indexName, vectors=body.vectors, ids=body.ids, metadata=body.metadata
    )
    async with _store(request) as store:
        ids: list[str] = await store.ask(msg)
    return json_response({"ids": ids})


def _match_json(match: QueryResult) -> dict[str, Any]:
    item: dict[str, Any] = {"id": match.id, "score": match.score, "metadata": match.metadata}
    if match.vector is not None:
        item["vector"] = match.vector
    return item


async def query(request: Request) -> Response:
    """The ``topK`` closest vectors matching ``filter``: ``[{id, score, metadata}]``."""
    body = await decode_body(request, QueryBody)
    msg = Query(
        index_name=body.indexName,
        query_vector=body.queryVector,
        top_k=body.topK,
        filter=body.filter,
        include_vector=body.includeVector,
        min_score=body.minScore,
    )
    async with _store(request) as store:
        matches: list[QueryResult] = await store.ask(msg)
    return json_response([_match_json(m) for m in matches])


async def list_indexes(request: Request) -> Response:
    """The names of the store's indexes, sorted."""
    async with _store(request) as store:
        names: list[str] = await store.ask(ListIndexes())
    return json_response(names)


async def describe_index(request: Request) -> Response:
    """``{dimension, count, metric}`` of one index; 404 if unknown."""
    async with _store(request) as store:
        info: IndexInfo = await store.ask(DescribeIndex(index_name=request.path_params["index"]))
    return json_response({"dimension": info.dimension, "count": info.count, "metric": info.metric})


async def delete_index(request: Request) -> Response:
    """Delete an index with its vectors; 404 if unknown."""
    name = request.path_params["index"]
    async with _store(request) as store:
        existed: bool = await store.ask(DeleteIndex(index_name=name))
    if not existed:
        raise NotFound(f"vector index {name!r} does not exist")
    return json_response({"success": True})


async def list_vector_stores(request: Request) -> Response:
    """The vector stores: the store actors that answer ``ListIndexes``."""
    ctx = AppContext.of(request)
    found: list[dict[str, str]] = []
    for name, ref in sorted(ctx.rt.actors("store").items()):
        if not allowed(request, "vectors", name):
            continue
        try:
            await ref.ask(ListIndexes())
        except UnhandledMessage:  # a store of another sort
            continue
        found.append({"id": name, "name": name, "type": "UsearchVector"})
    return json_response({"vectors": found})


def routes() -> list[Route]:
    """The vector routes."""
    base = "/api/vector/{vector_name}"
    return [
        Route("/api/vectors", list_vector_stores, methods=["GET"]),
        Route(f"{base}/create-index", create_index, methods=["POST"]),
        Route(f"{base}/upsert", upsert, methods=["POST"]),
        Route(f"{base}/query", query, methods=["POST"]),
        Route(f"{base}/indexes", list_indexes, methods=["GET"]),
        Route(f"{base}/indexes/{{index}}", describe_index, methods=["GET"]),
        Route(f"{base}/indexes/{{index}}", delete_index, methods=["DELETE"]),
    ]
