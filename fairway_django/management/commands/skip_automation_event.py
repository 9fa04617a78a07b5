"""``manage.py skip_automation_event NAME``: move an automation's watcher past the event its
handler failed on, so that it goes on queueing the jobs of the next events. The skipped event
is printed, so the decision leaves a trace."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework.jobs import JobQueue
from ...store import get_store


class Command(BaseCommand):
    help = "Move automation NAME's watcher past the event its handler failed on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="the automation's slice name")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        failure = JobQueue(get_store(), name).skip_failed_event()
        if failure is None:
            raise CommandError(f"the watcher of {name!r} has no failed event to skip")
        self.stdout.write(f"{name}: skipped {failure.describe()}")
