"""What a projection's generation and an automation's watcher share: following the log in
batches, one transaction each, and stopping on an event their handlers cannot take.

A step runs one batch. When a handler raises, the batch is rolled back and run again up to the
event before the failing one (so that the events before it still take effect), the failure is
recorded, and the task stops there. A batch too big or too slow for one transaction is halved.
"""

from __future__ import annotations

import logging
import traceback
from abc import abstractmethod
from concurrent.futures import Future
from dataclasses import replace
from functools import partial

from fairway_django.dcb import DcbStore, SequencedEvent
from fairway_django.engine import Transaction, TransactionTooLarge, TransactionTooOld

from .automations import MAX_ERROR_BYTES, MAX_TRACEBACK_BYTES, shortened
from .generations import Failure
from .leases import Lease, now_ms
from .tasks import Step, Task

logger = logging.getLogger("fairway")

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
            step = database.transact(partial(self.batch, lease=lease, limit=self.batch_size))
        except HandlerFailed as failed:
            done = 0
            if failed.applied:  # the events before the failing one still take effect
                done = database.transact(
                    partial(self.batch, lease=lease, limit=failed.applied)
                ).done
            failure = failed.failure
            database.transact(partial(self.record_failure, failure=failure))
            logger.error("%s: stopped at the %s event at %s: %s", self.name,
                         failure.event_type, failure.position, failure.error)
            return Step(done, None, caught_up=False, failed=True)
        except (TransactionTooLarge, TransactionTooOld):
            if self.batch_size == 1:
                raise
            self.batch_size = max(1, self.batch_size // 2)  # handlers wrote too much, or slowly
            return Step(0, None, caught_up=False)
        return self._sleep_on_head(step) if step.caught_up else step

    def _sleep_on_head(self, step: Step) -> Step:
        """A caught-up step, with a watch on the log's head to sleep on; not caught up after
        all when an append committed since the batch read.

        The watch is set in a read-only transaction of its own: set in the batch's, it would
        put the head key in the batch's read conflicts, and every append committing meanwhile
        would make a caught-up batch run again.
        """
        head_key = self.store.keyspace.head

        def watch(tr: Transaction) -> Future[None] | None:
            head = self.store.head(transaction=tr)
            if head is not None and (step.position is None or head > step.position):
                return None  # more to do: no sleep
            return tr.watch(head_key)

        change = self.store.database.transact(watch)
        return replace(step, change=change, caught_up=change is not None)

    @abstractmethod
    def batch(self, tr: Transaction, lease: Lease, limit: int) -> Step:
        """Apply up to ``limit`` events in ``tr``; raise HandlerFailed on a handler's error."""

    @abstractmethod
    def record_failure(self, tr: Transaction, failure: Failure) -> None:
        """Keep ``failure`` where status shows it."""
