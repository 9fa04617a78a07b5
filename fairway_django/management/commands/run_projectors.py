"""``manage.py run_projectors [NAME ...]``: keep projections' read models up to date.

Every projection in the code (or the named ones) runs in a thread of its own under a lease, so
several runner processes, on one machine or many, share them: each projection is applied by one
process at a time, and another takes over within ``LEASE_SECONDS`` when that one dies. New
generations (a new ``version``, ``rebuild_projection``) are picked up while running.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...framework import registry
from ...framework.generations import Generations
from ...framework.leases import process_owner
from ...framework.projections import Projection
from ...framework.projector import ProjectionTask
from ...framework.stopping import Stopping, first_of
from ...framework.tasks import Task
from ...management.runner import (
    add_runner_arguments, configure_logging, named, stop_on_signals, supervise,
)
from ...store import get_store


class Command(BaseCommand):
    help = (
        "Keep the read models of every projection (or of the NAMEs given) up to date until "
        "stopped. Ctrl-C or SIGTERM finishes the current batch and exits; a second one exits "
        "at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_runner_arguments(parser, "projections")

    def handle(
        self, *args: Any, names: list[str], once: bool, health_file: Path | None, verbosity: int,
        **options: Any,
    ) -> None:
        configure_logging(verbosity)
        projections = selected(names)
        store = get_store()
        stopping = Stopping()
        supervisor, display = supervise(store, stopping, once=once, owner=process_owner())

        def discover() -> tuple[list[Task], Future[None] | None]:
            def prepare(tr: Any) -> tuple[list[Task], Future[None] | None]:
                tasks: list[Task] = []
                watches = []
                for projection in projections:
                    generations = Generations(store, projection.slice_name)
                    for generation in generations.prepare(tr, projection.version):
                        tasks.append(ProjectionTask(projection, generation, store))
                    watches.append(tr.watch(generations.catalog_key))
                return tasks, first_of(watches)

            return store.database.transact(prepare)

        with stop_on_signals(stopping):
            supervisor.run(discover, health_file=health_file)
        display.close()
        failed = sorted(name for name, outcome in supervisor.outcomes.items() if outcome == "failed")
        if failed:
            raise CommandError(
                f"stopped on a failing event: {', '.join(failed)}; `manage.py fairway_status` "
                "shows the error; fix the handler and restart, or `manage.py "
                "skip_projection_event NAME`"
            )



def selected(names: list[str]) -> list[type[Projection]]:
    """The projections named (every one when none is), or CommandError naming the unknown."""
    return named(registry.projections, names, "projections")
