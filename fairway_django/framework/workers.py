"""Job workers: lease a due job, run its side effect, then complete it, retry it or bury it.

A worker serves a list of automations, taking their due jobs in turn (round robin). While
``perform`` runs in the worker's thread, a heartbeat thread extends the job's lease, so a long
job is not taken over; if the worker dies, the lease runs out and another worker runs the job
again (at least once, with the same idempotency key). What became of a job is committed in the
transaction that leases the next one, so a job costs one commit besides its heartbeats. With
nothing due, a worker sleeps until the next job falls due (a backoff or a dead worker's lease
ending) or until a queue changes (an engine watch set in the same transaction that found
nothing, so no change is missed): it never polls. Any number of workers, in any number of
processes and machines, share the queues.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Literal

import msgspec

from fairway_django.dcb import DcbStore, Position
from fairway_django.engine import Database, FDBError, Transaction

from .automations import Automation, RunningJob
from .jobs import JobQueue, LeasedJob
from .leases import now_ms, process_owner
from .stopping import Stopping, first_of
from .tasks import ERROR_PAUSE_SECONDS, RENEWALS_PER_LEASE

logger = logging.getLogger("fairway")

#: Longest sleep of an idle worker (it wakes at once when a job is queued or falls due).
IDLE_SECONDS = 5.0
#: Retries of the commit that records a job's end and leases the next before recording alone.
COMBINED_RETRY_LIMIT = 2
#: Shortest sleep, so that a clock a little behind another machine's does not make it spin.
MIN_SLEEP_SECONDS = 0.01

Outcome = Literal["done", "retrying", "dead", "lost"]


@dataclass(frozen=True)
class JobReport:
    """What became of one attempt at a job. ``lost``: another worker holds the job now (this
    worker was too slow to extend its lease, or could not reach the store to say it is done),
    so the job runs again."""

    automation: str
    position: Position
    key: str
    attempt: int
    outcome: Outcome
    seconds: float
    error: str | None = None


JobReporter = Callable[[JobReport], None]


@dataclass(frozen=True)
class _Idle:
    seconds: float
    change: Future[None] | None


@dataclass(frozen=True)
class _Ended:
    """An attempt that has ended, to record in the transaction that leases the next job (one
    commit per job instead of two)."""

    queue: JobQueue
    job: LeasedJob
    #: Completes or fails the job; False when it is another worker's now.
    record: Callable[[Transaction], bool]
    #: What became of the job, if ``record`` says it is still ours.
    outcome: Outcome
    seconds: float
    error: str | None = None
    retry_in: float = 0.0


class JobWorker:
    """Runs the jobs of ``automations`` in the calling thread; see the module docstring. Each
    automation class is instantiated once per worker."""

    def __init__(
        self, automations: Sequence[type[Automation]], store: DcbStore, *,
        owner: str | None = None, report: JobReporter | None = None,
    ) -> None:
        if not automations:
            raise ValueError("a JobWorker needs at least one automation class")
        self.store = store
        self.owner = owner or process_owner()
        self.report = report
        self._queues = [JobQueue(store, cls) for cls in automations]
        self._automations = {cls.slice_name: cls() for cls in automations}
        self._retries = {cls.slice_name: cls.retry for cls in automations}
        self._next = 0

    def run(self, stopping: Stopping, *, once: bool = False) -> int:
        """Run jobs until ``stopping`` is set (the current job finishes first); with ``once``,
        return as soon as no job is due. Returns how many attempts it ran."""
        heartbeat = _Heartbeat(self.store.database)
        try:
            return self._run(stopping, once, heartbeat)
        finally:
            heartbeat.close()

    def _run(self, stopping: Stopping, once: bool, heartbeat: _Heartbeat) -> int:
        ran = 0
        ended: _Ended | None = None
        while not stopping.is_set():
            try:
                ours, found = self._next_job(ended)
            except FDBError as error:  # the engine is unavailable or overloaded: try again
                logger.warning("job worker: %s; retrying in %.0f s", error, ERROR_PAUSE_SECONDS)
                stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            if ended is not None:
                self._report(ended, ours)
                ended = None
            if isinstance(found, _Idle):
                heartbeat.hold(None)
                if once:
                    if found.change is not None:
                        found.change.cancel()
                    return ran
                stopping.wait(found.seconds, found.change)
                continue
            index, job = found
            heartbeat.hold((self._queues[index], job))
            self._next = index + 1
            ended = self._attempt(self._queues[index], job)
            ran += 1
        if ended is not None:
            self._report(ended, self._record_alone(ended))
        return ran

    def _next_job(self, ended: _Ended | None) -> tuple[bool, tuple[int, LeasedJob] | _Idle]:
        """Record the end of the last attempt (if any) and lease the next job, in one commit
        unless leasing is contended: then the end is recorded on its own first, so that it is
        not held up (while the job's lease runs out) by retries of the lease."""
        transact = self.store.database.transact
        lease = partial(self._record_and_lease, start=self._next, tried=[])
        if ended is not None:
            try:
                return transact(partial(lease, ended=ended), retry_limit=COMBINED_RETRY_LIMIT)
            except FDBError as error:
                if not error.retryable:
                    raise
            ours = transact(ended.record)
            return ours, transact(partial(lease, ended=None))[1]
        return transact(partial(lease, ended=None))

    def _record_and_lease(
        self, tr: Transaction, ended: _Ended | None, start: int, tried: list[tuple[int, LeasedJob]]
    ) -> tuple[bool, tuple[int, LeasedJob] | _Idle]:
        """Record the end of the last attempt and lease the next job. ``tried`` holds the jobs
        that earlier tries of this transaction leased: when a commit's result was unknown, the
        job it leased may be ours, and is taken up rather than left to wait out its lease."""
        ours = ended is not None and ended.record(tr)
        for index, job in tried:
            if self._queues[index].holds(tr, job):
                return ours, (index, job)
        found = self._lease(tr, start)
        if not isinstance(found, _Idle):
            tried.append(found)
        return ours, found

    def _lease(self, tr: Transaction, start: int) -> tuple[int, LeasedJob] | _Idle:
        """Lease a due job, trying the queues from ``start`` on; else say how long to sleep."""
        count = len(self._queues)
        for offset in range(count):
            index = (start + offset) % count
            job = self._queues[index].lease(tr, self.owner)
            if job is not None:
                return index, job
        due = [ms for queue in self._queues if (ms := queue.next_due_ms(tr)) is not None]
        seconds = IDLE_SECONDS if not due else (min(due) - now_ms()) / 1000
        change = first_of([queue.watch_changes(tr) for queue in self._queues])
        return _Idle(min(max(seconds, MIN_SLEEP_SECONDS), IDLE_SECONDS), change)

    def _attempt(self, queue: JobQueue, job: LeasedJob) -> _Ended:
        running = RunningJob(
            job.key, msgspec.json.decode(job.data), f"{queue.name}:{job.position}", job.attempt,
            job.position, self.store,
        )
        started = time.monotonic()
        try:
            self._automations[queue.name].perform(running)
        except Exception as exception:
            error = f"{type(exception).__name__}: {exception}"
            delay = self._retries[queue.name].delay(job.attempt)
            fail = partial(queue.fail, job=job, error=error, traceback=traceback.format_exc(),
                           retry_at_ms=now_ms() + int(delay * 1000))
            outcome: Outcome = "dead" if job.attempt >= queue.max_attempts else "retrying"
            return _Ended(queue, job, fail, outcome, time.monotonic() - started, error, delay)
        complete = partial(queue.complete, job=job)
        return _Ended(queue, job, complete, "done", time.monotonic() - started)

    def _record_alone(self, ended: _Ended) -> bool:
        """Record the last attempt before stopping; False when that fails (it runs again)."""
        try:
            return self.store.database.transact(ended.record)
        except FDBError as error:
            logger.warning("%s: could not record the end of job %s: %s", ended.queue.name,
                           ended.job.position, error)
            return False

    def _report(self, ended: _Ended, ours: bool) -> None:
        name, job = ended.queue.name, ended.job
        outcome = ended.outcome if ours else "lost"
        if outcome == "lost":
            logger.warning("%s: job %s (key %r) attempt %d is another worker's now; it runs "
                           "again", name, job.position, job.key, job.attempt)
        elif outcome == "retrying":
            logger.warning("%s: job %s (key %r) attempt %d failed: %s; retrying in %.1f s",
                           name, job.position, job.key, job.attempt, ended.error, ended.retry_in)
        elif outcome == "dead":
            logger.error("%s: job %s (key %r) failed %d times, moved to the dead letters: %s",
                         name, job.position, job.key, job.attempt, ended.error)
        else:
            logger.debug("%s: job %s (key %r) attempt %d done", name, job.position, job.key,
                         job.attempt)
        if self.report is not None:
            self.report(JobReport(name, job.position, job.key, job.attempt, outcome,
                                  ended.seconds, ended.error))


class _Heartbeat:
    """Extends the lease of the job its worker holds, every third of the lease, until the job's
    end is recorded; one thread for all the worker's jobs (starting a thread per job costs more
    than a short job)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._changed = threading.Condition()
        self._current: tuple[JobQueue, LeasedJob] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def hold(self, current: tuple[JobQueue, LeasedJob] | None) -> None:
        """Extend the lease of this job from now on (None: of none)."""
        with self._changed:
            self._current = current
            self._changed.notify()
            if current is not None and self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="fairway heartbeat", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        finished = None  # the job last found ended or taken over: not extended again
        with self._changed:
            while not self._closed:
                current = self._current
                if current is None or current is finished:
                    self._changed.wait()
                    continue
                queue, job = current
                interval = queue.lease_ms / 1000 / RENEWALS_PER_LEASE
                if self._changed.wait_for(lambda: self._moved_on(current), interval):
                    continue
                self._changed.release()  # the worker may finish the job meanwhile
                try:
                    ours = self._beat(queue, job)
                finally:
                    self._changed.acquire()
                if not ours:  # taken over (the worker will report it), or just recorded as ended
                    finished = current

    def _moved_on(self, current: tuple[JobQueue, LeasedJob]) -> bool:
        return self._closed or self._current is not current

    def _beat(self, queue: JobQueue, job: LeasedJob) -> bool:
        try:
            return self._database.transact(partial(queue.heartbeat, job=job))
        except FDBError as error:  # try again at the next beat
            logger.warning("%s: could not extend the lease of job %s: %s", queue.name,
                           job.position, error)
            return True
