"""How far behind each projection generation and each automation is, and why it stopped: for
``fairway_status`` and the admin.

Lag is counted, not estimated: the events a generation (or an automation's watcher) handles
after its checkpoint, up to ``LAG_COUNT_LIMIT`` (a bounded read), and the age of the oldest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from fairway_django.dcb import DcbStore, Position, Query
from fairway_django.engine import Transaction

from .automations import Automation, QueueStats
from .codec import occurred_at
from .generations import Failure, Generation, Generations, projection_names
from .jobs import JobQueue
from .keyspace import keyspace_of
from .leases import Holder, now_ms, read_holder
from .projections import Projection
from .projector import lease_name
from .query import select

#: Lag is counted up to this many events; beyond, status shows "at least" this.
LAG_COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class GenerationStatus:
    projection: str
    #: None when the projection is no longer in the code.
    projection_class: type[Projection] | None
    generation: Generation
    checkpoint: Position | None
    #: Handled events after the checkpoint (at most LAG_COUNT_LIMIT), and how old the oldest is.
    lag_events: int
    lag_seconds: float | None
    failure: Failure | None
    #: The runner holding the generation's lease while it is not expired, else None.
    runner: Holder | None


def projection_statuses(
    store: DcbStore, projections: dict[str, type[Projection]]
) -> list[GenerationStatus]:
    """Every generation of every projection in the store or in ``projections``, by name."""
    names = sorted(set(store.database.transact(lambda tr: projection_names(tr, store)))
                   | set(projections))
    found = []
    for name in names:
        generations = Generations(store, name)
        cls = projections.get(name)
        catalog = store.database.transact(lambda tr: generations.catalog(tr.snapshot))
        for generation in catalog.generations:
            found.append(_status(store, generations, cls, generation))
    return found


def _status(
    store: DcbStore, generations: Generations, cls: type[Projection] | None,
    generation: Generation,
) -> GenerationStatus:
    lease_key = keyspace_of(store).lease(lease_name(generations.name, generation.number))

    def read(tr: Transaction) -> tuple[Position | None, Failure | None, Holder | None]:
        number = generation.number
        holder = read_holder(tr.snapshot, lease_key)
        if holder is not None and holder.expired(now_ms()):
            holder = None
        return (
            generations.checkpoint(tr.snapshot, number), generations.failure(tr.snapshot, number),
            holder,
        )

    checkpoint, failure, holder = store.database.transact(read)
    query = Query.all() if cls is None else select(*cls.handled_events()).dcb
    count, seconds = lag(store, query, checkpoint)
    return GenerationStatus(
        generations.name, cls, generation, checkpoint, count, seconds, failure, holder
    )


@dataclass(frozen=True)
class AutomationStatus:
    automation: type[Automation]
    queue: QueueStats
    #: Handled events after the watcher's cursor (at most LAG_COUNT_LIMIT), and the oldest's age.
    lag_events: int
    lag_seconds: float | None

    @property
    def name(self) -> str:
        return self.automation.slice_name


def automation_statuses(
    store: DcbStore, automations: dict[str, type[Automation]]
) -> list[AutomationStatus]:
    """Every automation in the code, by name: its queue and its watcher's lag."""
    found = []
    for _name, automation in sorted(automations.items()):
        stats = JobQueue(store, automation).stats()
        query = select(*automation.handled_events()).dcb
        found.append(AutomationStatus(automation, stats, *lag(store, query, stats.cursor)))
    return found


def lag(store: DcbStore, query: Query, after: Position | None) -> tuple[int, float | None]:
    """How many events matching ``query`` follow ``after`` (counted up to LAG_COUNT_LIMIT), and
    how old the first of them is in seconds (None when none waits or it records no time)."""
    count, oldest = 0, None
    for sequenced in store.read(query, after=after, limit=LAG_COUNT_LIMIT):
        if oldest is None:
            oldest = occurred_at(sequenced.event.metadata or {})
        count += 1
    return count, _age(oldest)


def lag_text(count: int) -> str:
    """A lag count as status shows it: "100,000+" once it reaches the counting limit."""
    return f"{count:,}" + ("+" if count >= LAG_COUNT_LIMIT else "")


def _age(moment: datetime | None) -> float | None:
    return None if moment is None else max(time.time() - moment.timestamp(), 0.0)
