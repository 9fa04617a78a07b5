"""FoundationDB's retry loop: re-run a transactional function on retryable errors, with backoff."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .errors import FDBError, TransactionTimedOut

if TYPE_CHECKING:
    from .base import Transaction

T = TypeVar("T")


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

    def backoff(self, attempt: int) -> float:
        """The pause before re-run number ``attempt`` (1-based), jittered to spread retries."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


def run_with_retries(
    create_transaction: Callable[..., Transaction],
    fn: Callable[[Transaction], T],
    policy: RetryPolicy,
    timeout: float | None,
) -> T:
    deadline = None if timeout is None else time.monotonic() + timeout
    attempt = 0
    while True:
        if deadline is None:
            tr = create_transaction()
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransactionTimedOut(f"gave up after {timeout}s and {attempt} retries")
            tr = create_transaction(timeout=remaining)
        try:
            result = fn(tr)
            tr.commit()
            return result
        except FDBError as error:
            tr.cancel()
            if not error.retryable or (
                policy.retry_limit is not None and attempt >= policy.retry_limit
            ):
                raise
        except BaseException:
            tr.cancel()
            raise
        attempt += 1
        time.sleep(policy.backoff(attempt))
