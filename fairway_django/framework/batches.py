"""What a projection's generation and an automation's watcher share: following the log in
batches, one transaction each, and stopping on an event their handlers cannot take.

A step runs one batch. When a handler raises, the batch is rolled back and run again up to the
event before the failing one (so that the events before it still take effect), the failure is
recorded, and the task stops there. A batch too big or too slow for one transaction is halved.
"""

from __future__ import annotations

import traceback
from abc import abstractmethod
from functools import partial

from fairway_django.dcb import DcbStore, SequencedEvent
from fairway_django.engine import Transaction, TransactionTooLarge, TransactionTooOld

from .automations import MAX_ERROR_BYTES, MAX_TRACEBACK_BYTES, shortened
from .generations import Failure
from .leases import Lease, now_ms
from .tasks import Step, Task

class HandlerFailed(Exception):  # noqa: N818 (carries a failure out of the transaction)
    def __init__(self, failure: Failure, applied: int) -> None:
        super().__init__(failure.error)
        self.failure = failure
        #: How many of the batch's events came before the one that failed.
        self.applied = applied


def handler_failed(sequenced: SequencedEvent, error: BaseException, applied: int
                   ) -> HandlerFailed:
    """The HandlerFailed for ``error``, raised while handling ``sequenced`` (call it in the
    ``except`` block, for the traceback)."""
    return HandlerFailed(Failure(
        str(sequenced.position), sequenced.event.type,
        shortened(f"{type(error).__name__}: {error}", MAX_ERROR_BYTES),
        shortened(traceback.format_exc(), MAX_TRACEBACK_BYTES, keep_end=True), now_ms(),
    ), applied)


class BatchTask(Task):
    """A task whose steps are batches of events; subclasses say what a batch does."""

    store: DcbStore
    batch_size: int

    def step(self, lease: Lease) -> Step:
        database = self.store.database
        try:
            return database.transact(partial(self.batch, lease=lease, limit=self.batch_size))
        except HandlerFailed as failed:
            done = 0
            if failed.applied:  # the events before the failing one still take effect
                done = database.transact(
                    partial(self.batch, lease=lease, limit=failed.applied)
                ).done
            database.transact(partial(self.record_failure, failure=failed.failure))
            return Step(done, None, caught_up=False, failed=True)
        except (TransactionTooLarge, TransactionTooOld):
            if self.batch_size == 1:
                raise
            self.batch_size = max(1, self.batch_size // 2)  # handlers wrote too much, or slowly
            return Step(0, None, caught_up=False)

    @abstractmethod
    def batch(self, tr: Transaction, lease: Lease, limit: int) -> Step:
        """Apply up to ``limit`` events in ``tr``; raise HandlerFailed on a handler's error."""

    @abstractmethod
    def record_failure(self, tr: Transaction, failure: Failure) -> None:
        """Keep ``failure`` where status shows it."""
