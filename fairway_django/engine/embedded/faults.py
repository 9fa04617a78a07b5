"""Fault injection: commits that fail the way FoundationDB's can, on purpose.

FDB's own testing injects faults everywhere (BUGGIFY). Layers above the engine must survive
the transient errors production FDB returns, so the embedded engine can make a chosen share of
commits fail with not_committed, transaction_too_old or commit_unknown_result, the last one
both after applying the commit and without applying it: a retry cannot tell which, exactly as
with a real cluster. A transaction with a timeout can also time out during its commit after
the commit was applied: FDB cancels a transaction when its timeout expires, and a cancelled
commit may or may not happen, so transaction_timed_out at commit may hide a commit too. Off by
default; ``?faults=0.1`` in the store URL turns it on.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import threading

from ..errors import EngineConfigurationError


class Fault(enum.Enum):
    NOT_COMMITTED = "not_committed"
    TRANSACTION_TOO_OLD = "transaction_too_old"
    UNKNOWN_RESULT_APPLIED = "commit_unknown_result (applied)"
    UNKNOWN_RESULT_NOT_APPLIED = "commit_unknown_result (not applied)"
    #: Only for transactions with a timeout: without one, FDB never times out.
    TIMED_OUT_APPLIED = "transaction_timed_out during commit (applied)"


_ALL = tuple(Fault)


@dataclasses.dataclass
class FaultInjection:
    """Fail ``rate`` of the commits that write, choosing evenly among ``kinds``."""

    rate: float = 0.0
    seed: int | None = None
    kinds: tuple[Fault, ...] = _ALL

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise EngineConfigurationError(f"faults must be a rate from 0 to 1, not {self.rate}")
        if not self.kinds:
            raise EngineConfigurationError("fault injection needs at least one kind of fault")
        self._random = random.Random(self.seed)
        self._timeless = tuple(k for k in self.kinds if k is not Fault.TIMED_OUT_APPLIED)
        self._lock = threading.Lock()

    def draw(self) -> Fault | None:
        if not self.rate:
            return None
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            return self._random.choice(self.kinds)

    def draw_for(self, can_time_out: bool) -> Fault | None:
        """The fault for a commit; one without a timeout (``can_time_out`` False) never times
        out, so it gets another kind instead."""
        fault = self.draw()
        if fault is Fault.TIMED_OUT_APPLIED and not can_time_out:
            with self._lock:
                return self._random.choice(self._timeless) if self._timeless else None
        return fault
