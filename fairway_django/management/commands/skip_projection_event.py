"""``manage.py skip_projection_event NAME [--generation N]``: go past the event a projection
stopped on.

A handler that raises stops its projection on that event. When the event can never be applied
(bad data written by an old bug, say), skipping it lets the projection go on; the skipped event
is printed so the decision leaves a trace. Restart (or keep) run_projectors afterwards.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework.generations import GenerationError, Generations
from ...store import get_store


class Command(BaseCommand):
    help = (
        "Move projection NAME past the event its handler failed on (in its serving generation, "
        "or generation N), so that run_projectors goes on with the next one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="the projection's slice name")
        parser.add_argument("--generation", type=int, metavar="N", help="default: the failed one")

    def handle(self, *args: Any, name: str, generation: int | None, **options: Any) -> None:
        store = get_store()
        generations = Generations(store, name)

        try:
            number, failure = store.database.transact(
                lambda tr: generations.skip_failed(tr, generation)
            )
        except GenerationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{name}@{number}: skipped {failure.describe()}")
