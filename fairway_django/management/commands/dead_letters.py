"""``manage.py dead_letters``: list, replay or discard the jobs that failed every attempt.

A job that raised on each of its automation's ``retry.attempts`` runs is kept, with its error
and traceback, until someone decides: replay it (it runs again, in order with its key's other
jobs, with fresh attempts) or discard it. The admin offers the same actions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...dcb import InvalidPosition, Position
from ...framework import registry
from ...framework.jobs import JobQueue
from ...store import get_store

ACTIONS = ("list", "replay", "discard")


class Command(BaseCommand):
    help = (
        "list [NAME]: the dead letters of every automation (or NAME's), with their errors; "
        "replay NAME (POSITION ... | --all): run them again; discard NAME (POSITION ... | "
        "--all): drop them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=ACTIONS)
        parser.add_argument("name", nargs="?", metavar="NAME", help="the automation")
        parser.add_argument(
            "positions", nargs="*", metavar="POSITION", help="the jobs, by their event's position"
        )
        parser.add_argument("--all", action="store_true", help="every dead letter of NAME")
        parser.add_argument("--tracebacks", action="store_true", help="list: show tracebacks")

    def handle(
        self, *args: Any, action: str, name: str | None, positions: list[str], all: bool,
        tracebacks: bool, **options: Any,
    ) -> None:
        store = get_store()
        if action == "list":
            names = [name] if name is not None else sorted(registry.automations)
            for listed in names:
                self.list(JobQueue(store, listed), tracebacks)
            return
        if name is None:
            raise CommandError(f"{action} needs the automation's NAME")
        if all == bool(positions):
            raise CommandError(f"{action} takes either POSITIONs or --all")
        queue = JobQueue(store, name)
        if all:
            count = queue.replay_all() if action == "replay" else queue.discard_all()
            self.stdout.write(f"{name}: {action}ed {count} dead letter{'s' * (count != 1)}")
            return
        for text in positions:
            try:
                position = Position.parse(text)
            except InvalidPosition as error:
                raise CommandError(str(error)) from None
            done = queue.replay(position) if action == "replay" else queue.discard(position)
            if not done:
                raise CommandError(f"{name} has no dead letter at {position}")
            self.stdout.write(f"{name}: {action}ed the job at {position}")

    def list(self, queue: JobQueue, tracebacks: bool) -> None:
        letters = queue.dead_letters(limit=1000)
        self.stdout.write(f"{queue.name}: {len(letters)} dead letter{'s' * (len(letters) != 1)}")
        for letter in letters:
            failed = datetime.fromtimestamp(letter.failed_ms / 1000, UTC).isoformat(
                timespec="seconds"
            )
            self.stdout.write(
                f"  {letter.position}  key {letter.key!r}  {letter.attempts} attempts, last "
                f"{failed}: {letter.error}"
            )
            if tracebacks:
                self.stdout.write("    " + letter.traceback.replace("\n", "\n    "))
