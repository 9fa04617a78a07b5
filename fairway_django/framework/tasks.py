"""The loop every runner thread runs: hold the task's lease, do a step, sleep until there is more.

A task (a projection's generation, an automation's watcher) does its work in steps: one
transaction each, that also takes or extends its lease. Between steps a caught-up task sleeps
on what its step handed back (an engine watch on the log's head), so new work wakes it at once
and nothing polls; it also wakes a few times per lease period to extend the lease. A process
that does not hold the lease retries as often, so it takes over within a lease period after the
holder dies. Stopping lets the current step finish and releases the lease on the way out.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Literal

from fairway_django.dcb import Position
from fairway_django.engine import Database, FDBError

from .leases import Lease
from .query import EventQuery
from .stopping import Stopping

logger = logging.getLogger("fairway")

#: How many times per lease period an idle holder wakes to extend it (and a waiting process
#: tries to take it).
RENEWALS_PER_LEASE = 3
#: Seconds to wait after an unexpected error before the next step.
ERROR_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Step:
    """What one step did."""

    #: Events (or jobs) it handled.
    done: int
    #: Where the task stands now (its checkpoint or cursor).
    position: Position | None
    #: True when there was no more work: the task sleeps until ``change`` completes.
    caught_up: bool
    change: Future[None] | None = None
    #: The lease was taken by another process: the step did nothing.
    lost_lease: bool = False
    #: The task stopped itself (an error it recorded): the loop ends.
    failed: bool = False
    #: The task's work is gone (a projection generation retired or dropped): the loop ends.
    finished: bool = False


class Task(ABC):
    """Work that one process at a time does, in steps."""

    #: Shown in logs, progress and status.
    name: str
    #: The name of its lease: unique among every kind of task in a store.
    lease_name: str
    #: The events it follows (progress counts those it has left).
    query: EventQuery

    @abstractmethod
    def step(self, lease: Lease) -> Step:
        """Do one unit of work in a transaction that also calls ``lease.take``."""


Report = Callable[[Task, Step], None]
#: How a task's loop ended: asked to stop, the task failed, its work is gone, or (``once``) it
#: caught up, or found another process holding its lease.
Outcome = Literal["stopped", "failed", "finished", "caught_up", "held_elsewhere"]


def run_task(
    task: Task, database: Database, lease: Lease, stopping: Stopping, report: Report, *,
    once: bool = False,
) -> Outcome:
    """Run ``task`` until ``stopping`` is set or the task fails; see the module docstring.

    With ``once``, return as soon as the task has caught up, or at once when another process
    holds its lease (that process keeps the task up to date).
    """
    pause = lease.seconds / RENEWALS_PER_LEASE
    holding = False
    standing_by = False
    try:
        while not stopping.is_set():
            if not holding:
                holding = _take(database, lease)
                if not holding:
                    if once:
                        logger.info("%s: another runner holds it; skipped", task.name)
                        return "held_elsewhere"
                    if not standing_by:
                        logger.info("%s: another runner holds it; standing by", task.name)
                        standing_by = True
                    stopping.wait(pause)
                    continue
                standing_by = False
                logger.info("%s: lease taken by %s", task.name, lease.owner)
            try:
                step = task.step(lease)
            except FDBError as error:  # the engine is unavailable or overloaded: try again
                logger.warning("%s: %s; retrying in %.0f s", task.name, error, ERROR_PAUSE_SECONDS)
                stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            report(task, step)
            if step.lost_lease:
                logger.info("%s: lease lost to another process", task.name)
                holding = False
                if once:
                    return "held_elsewhere"
            elif step.failed:
                return "failed"
            elif step.finished:
                return "finished"
            elif step.caught_up:
                if once:
                    if step.change is not None:
                        step.change.cancel()
                    return "caught_up"
                stopping.wait(pause, step.change)
        return "stopped"
    finally:
        if holding:
            _release(database, lease, task)


def run_to_head(task: Task, database: Database, lease: Lease) -> Step:
    """Step ``task`` in this thread until it has caught up, failed, finished or lost its
    lease, then give the lease back; the last step, with ``done`` counting every step's.
    For tests, scripts and ``--once``-like jobs that want the work done before going on."""
    done = 0
    try:
        while True:
            step = task.step(lease)
            done += step.done
            if step.change is not None:
                step.change.cancel()
            if step.caught_up or step.failed or step.finished or step.lost_lease:
                return replace(step, done=done, change=None)
    finally:
        database.transact(lease.release)


def _take(database: Database, lease: Lease) -> bool:
    try:
        return database.transact(lease.take)
    except FDBError as error:
        logger.warning("lease %r: %s", lease.key, error)
        return False


def _release(database: Database, lease: Lease, task: Task) -> None:
    try:
        database.transact(lease.release)
    except FDBError as error:  # it expires on its own
        logger.warning("%s: could not release its lease: %s", task.name, error)
