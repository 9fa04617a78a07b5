"""``manage.py run_automations [NAME ...]``: turn events into jobs, and run the jobs.

One command for both halves of an automation: each automation's watcher runs in a thread under
a lease (one process at a time queues its jobs, as a projection's runner does), and
``--workers`` threads run due jobs of every selected automation. Start as many processes as the
work needs, on one machine or many: watchers fail over like projectors, workers share the
queues. Signals, ``--once``, ``--verbosity`` and ``--health-file`` work as for run_projectors.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework import registry
from ...framework.automations import Automation
from ...framework.leases import process_owner
from ...framework.stopping import Stopping
from ...framework.tasks import Task
from ...framework.watcher import AutomationWatcher
from ...framework.workers import JobReport, JobWorker
from ...management.progress import LOG_EVERY_SECONDS
from ...management.runner import (
    add_runner_arguments, configure_logging, named, stop_on_signals, supervise,
)
from ...store import get_store

logger = logging.getLogger("fairway")


class Command(BaseCommand):
    help = (
        "Queue the jobs of every automation (or of the NAMEs given) as their events are "
        "appended, and run them, until stopped. Ctrl-C or SIGTERM lets running jobs finish and "
        "exits; a second one exits at once (an interrupted job runs again elsewhere)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_runner_arguments(parser, "automations")
        parser.add_argument(
            "--workers", type=int, default=1, metavar="N",
            help="threads running jobs in this process (default 1; 0: only queue jobs)",
        )

    def handle(
        self, *args: Any, names: list[str], once: bool, health_file: Path | None, workers: int,
        verbosity: int, **options: Any,
    ) -> None:
        configure_logging(verbosity)
        if workers < 0:
            raise CommandError(f"--workers takes 0 or more threads, not {workers}")
        automations = selected(names)
        if not automations:
            raise CommandError("no automation is registered: there is nothing to run")
        store = get_store()
        stopping = Stopping()
        owner = process_owner()
        supervisor, display = supervise(store, stopping, once=once, owner=owner)
        tally = JobTally()
        watchers: list[Task] = [AutomationWatcher(cls, store) for cls in automations]
        runners = [
            threading.Thread(
                target=JobWorker(automations, store, owner=owner, report=tally).run,
                args=(stopping,), kwargs={"once": once}, name=f"fairway jobs {number}",
                daemon=True,
            )
            for number in range(workers)
        ]
        with stop_on_signals(stopping):
            if not once:
                for runner in runners:
                    runner.start()
            supervisor.run(lambda: (watchers, None), health_file=health_file)
            if once:  # every job the watchers queued, then exit
                for runner in runners:
                    runner.start()
            for runner in runners:
                while runner.is_alive():
                    runner.join(0.2)  # short joins: the main thread keeps receiving signals
        display.close()
        tally.log(force=True)
        failed = sorted(name for name, outcome in supervisor.outcomes.items() if outcome == "failed")
        if failed:
            raise CommandError(
                f"the watcher of {', '.join(failed)} stopped on a failing event; "
                "`manage.py fairway_status` shows the error; fix the handler and restart, or "
                "`manage.py skip_automation_event NAME`"
            )


class JobTally:
    """Counts what workers report and logs a line every few seconds while jobs run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {"done": 0, "retrying": 0, "dead": 0, "lost": 0}
        self._since = time.monotonic()
        self._logged = 0

    def __call__(self, report: JobReport) -> None:
        with self._lock:
            self._counts[report.outcome] += 1
        self.log()

    def log(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            total = sum(self._counts.values())
            if total == self._logged or not (force or now - self._since >= LOG_EVERY_SECONDS):
                return
            counts = ", ".join(f"{count:,} {outcome}" for outcome, count in self._counts.items())
            rate = (total - self._logged) / max(now - self._since, 1e-9)
            self._logged, self._since = total, now
        logger.info("jobs: %s (%s/s)", counts, f"{rate:,.1f}")



def selected(names: list[str]) -> list[type[Automation]]:
    """The automations named (every one when none is), or CommandError naming the unknown."""
    return named(registry.automations, names, "automations")
