"""The store errors, documented in one place.

```
StoreError                      base of every error a store raises to its caller
├── InvalidRequest (ValueError) a request field is wrong; the message names the field
│   ├── DimensionMismatch       a vector's length differs from its index's dimension
│   └── FilterError             a metadata filter uses an unknown operator or a bad operand
├── NotFound (LookupError)      the record, thread or run a write needs does not exist
│   └── UnknownIndex            the vector index does not exist
├── IndexExists                 create-index with another dimension or metric than stored
├── LeaseLost                   a workflow run's lease is held by another node now
└── StoreUnavailable            the database stayed busy past the retry budget, or failed
```

Store actors list ``StoreError`` in ``expected_errors``: a caller gets these as they are and
the actor keeps running.
"""

from __future__ import annotations

__all__ = [
    "DimensionMismatch",
    "FilterError",
    "IndexExists",
    "InvalidRequest",
    "LeaseLost",
    "NotFound",
    "StoreError",
    "StoreUnavailable",
    "UnknownIndex",
]


class StoreError(Exception):
    """Base class of every error a store raises to its caller."""


class InvalidRequest(StoreError, ValueError):
    """A request field is malformed; the message names the field and what was expected."""


class DimensionMismatch(InvalidRequest):
    """A vector's length differs from the dimension its index was created with."""


class FilterError(InvalidRequest):
    """A metadata filter is malformed; the message gives the path inside the filter."""


class NotFound(StoreError, LookupError):
    """The record, thread or workflow run that a write refers to does not exist."""


class UnknownIndex(NotFound):
    """The named vector index does not exist."""


class IndexExists(StoreError):
    """An index of that name exists with another dimension or metric."""


class LeaseLost(StoreError):
    """A node saved a workflow run whose lease another node holds now (it took the run
    over after this node's lease expired). Nothing was written."""


class StoreUnavailable(StoreError):
    """The database stayed busy beyond the retry budget, or an I/O error stopped a commit.

    Nothing of the failed write is committed.
    """
