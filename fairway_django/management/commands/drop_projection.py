"""``manage.py drop_projection NAME [--generation N]``: delete a projection's stored data.

With ``--generation``, one generation that does not serve reads (a retired one, or a rebuild
to abandon). Without it, every generation of a projection that is no longer in the code: slices
are disposable, and what a removed one kept should not stay behind for ever.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework import registry
from ...framework.generations import GenerationError, Generations
from ...store import get_store


class Command(BaseCommand):
    help = (
        "Delete generation N of projection NAME (not the serving one), or, without "
        "--generation, all the data of a projection that is no longer in the code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="the projection's slice name")
        parser.add_argument("--generation", type=int, metavar="N", help="the generation to drop")

    def handle(self, *args: Any, name: str, generation: int | None, **options: Any) -> None:
        if generation is None and name in registry.projections:
            raise CommandError(
                f"{name} is in the code: drop one of its generations with --generation N "
                "(manage.py fairway_status lists them), or remove it from the code first"
            )
        store = get_store()
        generations = Generations(store, name)
        try:
            dropped = store.database.transact(lambda tr: generations.drop(tr, generation))
        except GenerationError as error:
            raise CommandError(str(error)) from None
        if not dropped:
            raise CommandError(f"the store holds no projection named {name!r}")
        numbers = ", ".join(map(str, dropped))
        self.stdout.write(f"{name}: dropped generation{'s' if len(dropped) > 1 else ''} {numbers}")
