"""What ``run_projectors`` and ``run_automations`` share: signals, logging and task threads.

The first SIGINT or SIGTERM asks every task to finish its current step (a batch, a job) and
release its lease, so a deploy's stop loses nothing and the next process starts at once; a second
signal exits immediately, which is safe because every step is one transaction. ``--verbosity``
sets the ``fairway`` logger's level (0 warnings, 1 progress, 2 and 3 every step), and a
project's own ``LOGGING`` configuration is left alone when it gives the logger a handler.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TypeVar

from django.core.management.base import CommandError, CommandParser

from ..conf import fairway_settings
from ..dcb import DcbStore
from ..engine import Database
from ..framework.keyspace import FrameworkKeyspace, keyspace_of
from ..framework.leases import Lease
from ..framework.stopping import Stopping
from ..framework.tasks import RENEWALS_PER_LEASE, Outcome, Report, Step, Task, run_task
from .progress import COUNT_LIMIT, ProgressDisplay

logger = logging.getLogger("fairway")

VERBOSITY_LEVELS = {0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG, 3: logging.DEBUG}


T = TypeVar("T")


def named(known: Mapping[str, T], names: list[str], kind: str) -> list[T]:
    """The ``kind`` (projections, automations) named, every one when none is; CommandError
    naming the unknown ones."""
    if not names:
        return list(known.values())
    unknown = [name for name in names if name not in known]
    if unknown:
        singular = kind.removesuffix("s")
        raise CommandError(
            f"no {singular} named {', '.join(map(repr, unknown))}; the {kind} are: "
            f"{', '.join(known) or 'none'}"
        )
    return [known[name] for name in names]


def add_runner_arguments(parser: CommandParser, kind: str) -> None:
    """The arguments every runner command takes: names, ``--once``, ``--health-file``."""
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"the {kind} to run (all)")
    parser.add_argument(
        "--once", action="store_true",
        help=f"catch up, then exit (skipping {kind} another runner holds)",
    )
    parser.add_argument(
        "--health-file", type=Path, metavar="PATH",
        help="touch PATH every few seconds while running, for a container health check "
        "(healthy: modified in the last 30 seconds)",
    )


def configure_logging(verbosity: int) -> None:
    """Send the ``fairway`` logger's records to stderr at the level ``verbosity`` asks for."""
    logger.setLevel(VERBOSITY_LEVELS.get(verbosity, logging.DEBUG))
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


@contextmanager
def stop_on_signals(stopping: Stopping) -> Iterator[None]:
    """First SIGINT/SIGTERM: ``stopping.set()``; the second: exit at once (status 128 + n)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            logger.warning("second %s: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        logger.warning(
            "%s: finishing the current step, then exiting (send it again to exit now)",
            signal.Signals(signum).name,
        )
        stopping.set()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def supervise(store: DcbStore, stopping: Stopping, *, once: bool, owner: str
              ) -> tuple[Supervisor, ProgressDisplay]:
    """A supervisor of tasks on ``store``, and the progress display it reports to, which counts
    the events a catching-up task has left by its query."""

    def remaining(task: Task, step: Step) -> int:
        return sum(1 for _ in store.read(task.query.dcb, after=step.position, limit=COUNT_LIMIT))

    display = ProgressDisplay(remaining)
    supervisor = Supervisor(
        store.database, owner, fairway_settings.LEASE_SECONDS, stopping, display,
        keyspace_of(store), once=once,
    )
    return supervisor, display


class Supervisor:
    """Runs tasks in threads, each under its own lease, and starts new ones as they appear."""

    def __init__(
        self, database: Database, owner: str, lease_seconds: float, stopping: Stopping,
        report: Report, keyspace: FrameworkKeyspace, *, once: bool = False,
    ) -> None:
        self.database = database
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.stopping = stopping
        self.report = report
        self.keyspace = keyspace
        self.once = once
        self.outcomes: dict[str, Outcome] = {}
        self._threads: dict[str, threading.Thread] = {}

    def start(self, task: Task) -> None:
        """Run ``task`` in a thread of its own, unless a task of that name already ran."""
        if task.name in self._threads:
            return
        lease = Lease(self.keyspace.lease(task.lease_name), self.owner, self.lease_seconds)

        def run() -> None:
            try:
                self.outcomes[task.name] = run_task(
                    task, self.database, lease, self.stopping, self.report, once=self.once
                )
            except Exception:
                logger.exception("%s stopped by an unexpected error", task.name)
                self.outcomes[task.name] = "failed"

        thread = threading.Thread(target=run, name=f"fairway {task.name}", daemon=True)
        self._threads[task.name] = thread
        thread.start()

    def run(
        self, discover: Callable[[], tuple[list[Task], Future[None] | None]], *,
        health_file: Path | None = None,
    ) -> None:
        """Start what ``discover`` returns, again each time its change completes, until stopped
        (with ``once``: until every task has caught up). ``health_file`` is touched every few
        seconds meanwhile, for a container's health check."""
        while True:
            if health_file is not None:
                health_file.touch()
            tasks, change = discover()
            for task in tasks:
                self.start(task)
            if self.once:
                if change is not None:
                    change.cancel()
                break
            if self.stopping.wait(self.lease_seconds / RENEWALS_PER_LEASE, change):
                break
        self.join()

    def join(self) -> None:
        for thread in self._threads.values():
            while thread.is_alive():
                thread.join(0.2)  # short joins: the main thread keeps receiving signals
