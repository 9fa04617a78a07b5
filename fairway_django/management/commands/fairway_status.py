"""``manage.py fairway_status``: where the log is, and how far behind everything that follows it.

For each projection generation: its version and state, checkpoint, lag (events and the age of
the oldest one waiting), the runner holding its lease, and the error it stopped on. Projections
no longer in the code are listed too, so their data can be dropped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...framework import registry
from ...framework.leases import now_ms
from ...framework.status import (
    AutomationStatus,
    GenerationStatus,
    automation_statuses,
    lag_text,
    projection_statuses,
)
from ...store import get_store


class Command(BaseCommand):
    help = (
        "Show the log's head, every projection generation's checkpoint, lag, runner and last "
        "error, and every automation's queue."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        store = get_store()
        head = store.head()
        self.stdout.write(f"head: {head if head is not None else '(empty log)'}")
        self.stdout.write("")
        self.stdout.write("projections:")
        statuses = projection_statuses(store, dict(registry.projections))
        if not statuses:
            self.stdout.write("  (none has run yet: start manage.py run_projectors)")
        for status in statuses:
            self.stdout.write("  " + describe(status))
            if status.failure is not None:
                failure = status.failure
                self.stdout.write(self.style.ERROR(
                    f"    stopped at the {failure.event_type} event at {failure.position}: "
                    f"{failure.error}"
                ))
        self.stdout.write("")
        self.stdout.write("automations:")
        if not registry.automations:
            self.stdout.write("  (none)")
        for automation in automation_statuses(store, dict(registry.automations)):
            self.describe_automation(automation)

    def describe_automation(self, status: AutomationStatus) -> None:
        stats = status.queue
        self.stdout.write(
            f"  {status.name}  cursor {stats.cursor or '-'}  lag {lag_text(status.lag_events)}"
            f" events  queued {stats.queued:,}  leased {len(stats.leased)}  "
            f"dead letters {stats.dead:,}"
        )
        for held in stats.leased:
            expires = max(held.expires_ms - now_ms(), 0) / 1000
            self.stdout.write(
                f"    job {held.position} (key {held.key!r}) run by {held.owner}, lease "
                f"{expires:.1f} s left"
            )
        if stats.failure is not None:
            failure = stats.failure
            self.stdout.write(self.style.ERROR(
                f"    watcher stopped at the {failure.event_type} event at {failure.position}: "
                f"{failure.error}"
            ))


def describe(status: GenerationStatus) -> str:
    generation = status.generation
    lag = lag_text(status.lag_events)
    if status.lag_seconds is not None:
        lag += f" events, oldest {status.lag_seconds:,.1f} s"
    else:
        lag += " events"
    where = "not in the code" if status.projection_class is None else (
        f"runner {status.runner.owner}" if status.runner is not None else "no runner"
    )
    return (
        f"{status.projection}@{generation.number}  version {generation.version}  "
        f"{generation.state}  checkpoint {status.checkpoint or '-'}  lag {lag}  {where}"
    )
