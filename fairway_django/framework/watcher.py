"""The watcher: turns an automation's events into jobs, one batch per transaction.

Each batch reads the cursor (with a conflict range), reads the next events after it, asks the
handlers for jobs, queues them and moves the cursor, all in one transaction: of two batches
from the same cursor only one commits, and a batch whose commit fails or is unknown (the retry
loop runs it again, and the cursor read again says whether it happened) queued its jobs and
moved the cursor, or did neither. So no job is lost or queued twice. One process at a time runs
an automation's watcher, under a lease (see :mod:`.tasks`); workers, any number of them, run
the jobs (see :mod:`.workers`).

A handler that raises (or returns a job the queue cannot hold) stops the watcher at its event:
the events before it still make their jobs, and the error, its traceback and the event's
position are recorded under the automation's keys for status to show. The next runner start
tries the event again; ``JobQueue.skip_failed_event`` skips it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fairway_django.dcb import DcbStore, Position, SequencedEvent
from fairway_django.engine import Transaction

from .automations import Automation, InvalidJob, encoded_data
from .batches import BatchTask, handler_failed
from .codec import decode
from .events import Event
from .generations import Failure
from .jobs import JobQueue
from .leases import Lease
from .query import select
from .tasks import Step


def watcher_lease_name(automation: str) -> str:
    """The name of the lease under which one process at a time runs an automation's watcher."""
    return f"automation:{automation}"


class AutomationWatcher(BatchTask):
    """Queues the jobs of ``automation`` for the events appended to ``store``."""

    def __init__(self, automation: type[Automation], store: DcbStore) -> None:
        if not automation.handlers:
            raise TypeError(
                f"{automation.__qualname__} handles no event class: mark methods with @on(...)"
            )
        self.automation = automation
        self.store = store
        self.queue = JobQueue(store, automation)
        self.name = automation.slice_name
        self.lease_name = watcher_lease_name(self.name)
        self.query = select(*automation.handled_events())
        self.batch_size = automation.batch_size

    def record_failure(self, tr: Transaction, failure: Failure) -> None:
        self.queue.record_failure(tr, failure)

    def batch(self, tr: Transaction, lease: Lease, limit: int) -> Step:
        if not lease.take(tr):
            return Step(0, None, caught_up=False, lost_lease=True)
        queue = self.queue
        cursor = queue.cursor(tr)  # read with a conflict range: each batch commits once
        tr.disable_read_cache()  # catching up reads the log once: keep no pages for it
        events = list(self.store.read(self.query.dcb, after=cursor, limit=limit, transaction=tr))
        automation = self.automation()
        jobs = []
        for applied, sequenced in enumerate(events):
            job = _job_of(automation, sequenced, self.query.classes, applied)
            if job is not None:
                jobs.append(job)
        queue.enqueue(tr, jobs)
        caught_up = len(events) < limit
        position = events[-1].position if events else cursor
        if caught_up:  # up to the head, so that status shows no lag for unhandled events
            head = self.store.head(transaction=tr)
            position = head if head is not None else position
        if position is not None and position != cursor:
            queue.set_cursor(tr, position)
        if events and tr.snapshot.get(queue.failure_key) is not None:
            tr.clear(queue.failure_key)  # fixed: it goes on
        return Step(len(events), position, caught_up)


def _job_of(
    automation: Automation, sequenced: SequencedEvent, classes: Mapping[str, type[Event]],
    applied: int,
) -> tuple[Position, str, bytes] | None:
    """The job the handler makes of one stored event, ready to queue; any error becomes
    HandlerFailed, naming the automation and the event."""
    position, stored = sequenced
    try:
        job = automation.job_for(decode(sequenced, classes).event)
        if job is None:
            return None
        try:
            return position, job.key, encoded_data(job)
        except InvalidJob as error:
            raise InvalidJob(
                f"{automation.slice_name}: the job for the {stored.type} event at {position}: "
                f"{error}"
            ) from None
    except Exception as error:
        raise handler_failed(sequenced, error, applied) from error
