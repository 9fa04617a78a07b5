"""The storage engine layer: one FDB-shaped interface, two engines.

``open_engine(url)`` returns a :class:`Database` for ``embedded:///path`` (the embedded engine,
the default for development, tests and CI) or ``fdb:///path/to/fdb.cluster`` (FoundationDB).
"""

from __future__ import annotations

from .base import Database, KeyValue, ReadTransaction, Transaction, transactional
from .errors import (
    AccessedUnreadable,
    ClientInvalidOperation,
    CommitUnknownResult,
    EngineConfigurationError,
    FDBError,
    InvalidOptionValue,
    InvertedRange,
    KeyOutsideLegalRange,
    KeyTooLarge,
    NoCommitVersion,
    NotCommitted,
    StorageFull,
    TooManyWatches,
    TransactionCancelled,
    TransactionTimedOut,
    TransactionTooLarge,
    TransactionTooOld,
    UsedDuringCommit,
    ValueTooLarge,
)
from .retry import RetryPolicy
from .url import StoreURL, parse_store_url

__all__ = [
    "AccessedUnreadable",
    "ClientInvalidOperation",
    "CommitUnknownResult",
    "Database",
    "EngineConfigurationError",
    "FDBError",
    "InvalidOptionValue",
    "InvertedRange",
    "KeyOutsideLegalRange",
    "KeyTooLarge",
    "KeyValue",
    "NoCommitVersion",
    "NotCommitted",
    "ReadTransaction",
    "RetryPolicy",
    "StorageFull",
    "StoreURL",
    "TooManyWatches",
    "Transaction",
    "TransactionCancelled",
    "TransactionTimedOut",
    "TransactionTooLarge",
    "TransactionTooOld",
    "UsedDuringCommit",
    "ValueTooLarge",
    "open_engine",
    "parse_store_url",
    "transactional",
]


def open_engine(url: str | StoreURL) -> Database:
    """Open the engine a store URL names. Opening is cheap: connections are made lazily."""
    parsed = url if isinstance(url, StoreURL) else parse_store_url(url)
    if parsed.scheme == "embedded":
        from .embedded import EmbeddedDatabase

        return EmbeddedDatabase.from_url(parsed)
    from .fdb import FDBDatabase

    return FDBDatabase.from_url(parsed)
