"""``manage.py rebuild_projection NAME``: build a projection's read model again from the log.

A new generation builds beside the serving one, which keeps answering (and being updated) until
the new one has caught up; then reads switch over. Running ``run_projectors`` picks it up.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework.generations import GenerationError, Generations
from ...store import get_store
from .run_projectors import selected


class Command(BaseCommand):
    help = (
        "Start rebuilding projection NAME from the start of the log, beside the generation "
        "serving reads; run_projectors builds it and switches reads over once it has caught up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="the projection's slice name")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        (projection,) = selected([name])
        store = get_store()
        generations = Generations(store, name)
        try:
            generation = store.database.transact(
                lambda tr: generations.rebuild(tr, projection.version)
            )
        except GenerationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{name}: generation {generation.number} (version {generation.version}) is "
            f"{generation.state}; run_projectors builds it"
        )
