"""How FoundationDB's retry loop (``Database.transact``) re-runs a transactional function."""

from __future__ import annotations

import dataclasses
import random

from .errors import FDBError


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. The backoff figures are FDB's client defaults."""

    #: Re-runs after the first attempt before the error is raised (None: no limit).
    retry_limit: int | None = 100
    #: First backoff, in seconds; doubles on every retry up to ``max_backoff``.
    initial_backoff: float = 0.01
    max_backoff: float = 1.0

    def with_limit(self, retry_limit: int) -> RetryPolicy:
        return dataclasses.replace(self, retry_limit=retry_limit)

    def retries(self, error: FDBError, attempt: int) -> bool:
        """Whether the loop re-runs after ``error`` on its re-run number ``attempt`` (0: the
        first attempt failed)."""
        return error.retryable and (self.retry_limit is None or attempt < self.retry_limit)

    def backoff(self, attempt: int) -> float:
        """The pause before re-run number ``attempt`` (1-based), jittered to spread retries."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)

