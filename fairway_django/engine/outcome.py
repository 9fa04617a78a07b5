"""Making a commit's unknown outcome definite.

``commit_unknown_result`` (1021), and ``transaction_timed_out`` (1031) raised during a commit,
leave open whether the commit happened: FDB's timeout cancels the transaction, and a cancelled
commit may or may not occur, possibly after the error was raised. A write that must happen
exactly once records a *marker*, a key that nothing else writes, and declares a read conflict
on it with :func:`mark`, in every attempt. :func:`settle` then looks the marker up in a fresh
transaction that also declares a write conflict on it, as FDB's client does itself after 1021
with its "dummy transaction": once that lookup commits, an earlier commit still in flight
conflicts with it and can never happen. So what the lookup says is final.

The event store's append uses this with its append id; any layer that must know whether a
write happened can do the same with a key of its own.
"""

from __future__ import annotations

import time

from .base import Database, Transaction
from .errors import FDBError, TransactionTimedOut

#: Re-runs :func:`settle` allows its lookup, within its timeout (conflicts with the commit
#: being settled are expected; anything else rarely repeats).
SETTLE_RETRY_LIMIT = 1000


def mark(tr: Transaction, marker: bytes) -> None:
    """Make ``tr``'s commit settleable by :func:`settle`: call in every attempt that writes
    ``marker`` (a key only this write ever writes)."""
    tr.add_read_conflict_key(marker)


def settle(db: Database, marker: bytes, *, timeout: float) -> bytes | None:
    """The value of ``marker`` if a commit that wrote it happened, None if none did or will.

    Call it in a fresh transaction's place after a commit's outcome was left unknown (1021
    once the retries ran out, or 1031). Raises an :class:`~.errors.FDBError` when the store
    does not answer within ``timeout`` seconds: the outcome then stays unknown.
    """
    deadline = time.monotonic() + timeout

    def look(tr: Transaction) -> bytes | None:
        found = tr.get(marker)
        if found is None:  # fence it: a write conflict aborts a commit of it still in flight
            tr.add_write_conflict_key(marker)
        return found

    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TransactionTimedOut(f"could not look up the marker within {timeout}s")
            return db.transact(look, timeout=remaining, retry_limit=SETTLE_RETRY_LIMIT)
        except FDBError as error:
            # A lookup that timed out with time left was cut short by its own fence's commit
            # (only injected faults do that): look again.
            if not isinstance(error, TransactionTimedOut) or time.monotonic() >= deadline:
                raise
