"""How FoundationDB's retry loop (``Database.transact``) re-runs a transactional function.

The FDB engine leaves the waiting to FDB's own ``on_error``, which keeps the transaction and
its backoff from one attempt to the next; the embedded engine waits as :class:`Backoff` says,
which follows ``on_error`` (``Transaction::onError`` and ``getBackoff`` in FDB's NativeAPI):

- after not_committed, commit_unknown_result and the other retryable errors it waits a random
  share of the current backoff, which starts at 10 ms and doubles after each wait, up to
  ``max_backoff`` (1 s);
- after the errors of an overloaded cluster (proxy memory limits) the backoff may grow to
  30 s instead, and the next error, whatever it is, waits a share of that;
- after transaction_too_old and future_version it waits 10 ms, and the backoff stays as it is.
"""

from __future__ import annotations

import dataclasses
import random

from .errors import FDBError

#: transaction_too_old and future_version: retried after a short fixed delay (FDB's
#: FUTURE_VERSION_RETRY_DELAY), without growing the backoff.
FIXED_DELAY_CODES = frozenset({1007, 1009})
FIXED_DELAY_SECONDS = 0.01
#: commit_proxy_memory_limit_exceeded and grv_proxy_memory_limit_exceeded: the cluster is short
#: of resources, so the backoff may grow to RESOURCE_CONSTRAINED_MAX_BACKOFF.
RESOURCE_CONSTRAINED_CODES = frozenset({1042, 1078})
RESOURCE_CONSTRAINED_MAX_BACKOFF = 30.0


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. The backoff figures are FDB's client defaults.

    FDB's own default is to retry without limit; ours stops after ``retry_limit`` re-runs, so
    that a transaction that keeps conflicting surfaces as an error instead of spinning. On
    the FDB engine the limit and ``max_backoff`` become the transaction's ``retry_limit`` and
    ``max_retry_delay`` options; ``initial_backoff`` is a client knob there (10 ms) and only
    the embedded engine honours another value.
    """

    #: Re-runs after the first attempt before the error is raised (None: no limit, as FDB).
    retry_limit: int | None = 100
    #: First backoff, in seconds; doubles on every retry up to ``max_backoff``.
    initial_backoff: float = 0.01
    max_backoff: float = 1.0

    def with_limit(self, retry_limit: int | None) -> RetryPolicy:
        return dataclasses.replace(self, retry_limit=retry_limit)

    def retries(self, error: FDBError, attempt: int) -> bool:
        """Whether the loop re-runs after ``error`` on its re-run number ``attempt`` (0: the
        first attempt failed)."""
        return error.retryable and (self.retry_limit is None or attempt < self.retry_limit)

    def backoff(self) -> Backoff:
        """The backoff of one transaction's retries, which carries over from one to the next."""
        return Backoff(self)


class Backoff:
    """One transaction's backoff state, as FDB's ``on_error`` keeps it."""

    __slots__ = ("_policy", "_current")

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._current = min(policy.initial_backoff, policy.max_backoff)

    @property
    def current(self) -> float:
        """The ceiling of the next wait (before the error that follows is known)."""
        return self._current

    def after(self, error: FDBError) -> float:
        """Seconds to wait before retrying after ``error``; grows the backoff for the next."""
        if error.code in FIXED_DELAY_CODES:
            return min(FIXED_DELAY_SECONDS, self._policy.max_backoff)
        wait = self._current * random.random()
        ceiling = (
            RESOURCE_CONSTRAINED_MAX_BACKOFF
            if error.code in RESOURCE_CONSTRAINED_CODES
            else self._policy.max_backoff
        )
        self._current = min(self._current * 2.0, ceiling)
        return wait
