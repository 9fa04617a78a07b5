"""The DCB benchmark's workloads, each written once against :class:`DcbClient`.

A workload is a generator: it yields a :class:`Figure` whenever it has measured one, and
``PAUSE`` wherever another store may take a turn without disturbing what is being timed.
``bench/dcb.py`` runs every contender's generator side by side, one turn each (its
``run_group``), so a burst of other work on the machine lands on all of them alike; a workload
only ever counts the time spent inside its own turns.

Every event has 128 bytes of data, type A/B/C/D cycling by event index i, and the tags
``entity:<i mod entities>`` and ``tenant:<i mod 10>`` (see ``bench._dcb_api``).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from bench._dcb_api import DcbClient, E, P, Q, data, entity_tag, make_events, tenant_tag
from bench._dcb_report import Figure, rate_figure
from bench._timing import Rate, percentile

T = TypeVar("T")

#: The types a decision reads, and the type it appends.
DECISION_TYPES = ("A", "B")
DECISION_TYPE = "A"
DECISION_DATA = data(-1)
#: The one entity every C3 thread decides on; no other workload tags it.
HOT_ENTITY = entity_tag("c3-hot")
#: Entity reads made, and not counted, before the measured ones: caches and connections warm up.
WARMUP_READS = 20


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much of each workload to run; ``QUICK`` is the smoke-run version."""

    singles: int = 5_000  # A: single-event appends
    batches: int = 200  # B: appends of ``batch`` events
    batch: int = 100
    entities: int = 1_000
    history: int = 10_000  # C: events in the store before the decisions (batches of ``batch``)
    sequential: int = 1_000  # C1: decisions, one per entity
    threads: int = 8  # C2, C3
    concurrent: int = 1_000  # C2: decisions over all threads (rounded up to a multiple)
    hot_successes: int = 400  # C3: stop once this many decisions succeeded...
    hot_seconds: float = 20.0  # ...or after this long
    loaded: int = 100_000  # D: events loaded (batches of ``batch``) before reading
    entity_reads: int = 300  # D: timed reads of one entity's events
    stream_rounds: int = 7  # D: streaming one type, best kept (a round takes some 70 ms)
    rounds: int = 10  # turns each timed workload is cut into (see run_group)
    memory_events: int = 1_000_000  # M
    memory_batch: int = 1_000
    process_decisions: int = 6_000  # P: decisions shared out between the processes (seconds)
    growth_decisions: int = 300  # G, on M's store: sequential decisions...
    growth_appends: int = 500  # ...and single-event appends (its reads: ``entity_reads``)


QUICK = Sizes(
    singles=500,
    batches=20,
    entities=100,
    history=1_000,
    sequential=100,
    concurrent=104,
    hot_successes=50,
    loaded=10_000,
    entity_reads=100,
    memory_events=100_000,
    process_decisions=200,
    growth_decisions=100,
    growth_appends=100,
)


#: What a workload yields: a figure it measured, or PAUSE where another store may take a turn.
Step = Figure | None
PAUSE: Step = None
#: A group of workloads on one fresh store, as a generator of steps (see ``dcb.run_group``).
Workload = Callable[[DcbClient[Any, Any, Any], Sizes], Iterator[Step]]


# --- A, B: appends ----------------------------------------------------------------------------


def appends_single(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """A: one event per append, no condition: the cost of a commit, which fsync dominates."""
    events = make_events(client, 0, sizes.singles, sizes.entities)
    warm_up(client)
    clock = Clock()
    for part in slices(events, sizes.rounds):
        yield PAUSE
        with clock:
            for event in part:
                client.append([event])
    yield rate_figure("A", clock.rate(len(events)), "event")


def appends_batched(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """B: appends of 100 events, no condition: the cost per event once commits are amortised."""
    batches = [
        make_events(client, first, first + sizes.batch, sizes.entities)
        for first in range(0, sizes.batches * sizes.batch, sizes.batch)
    ]
    warm_up(client)
    clock = Clock()
    for part in slices(batches, sizes.rounds):
        yield PAUSE
        with clock:
            for batch in part:
                client.append(batch)
    yield rate_figure("B", clock.rate(sizes.batches * sizes.batch), "event")


# --- C: decisions (read, then append on condition) ---------------------------------------------


def decisions(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """C1-C3 on one store that already holds some history, so the reads find events."""
    yield from load(client, sizes.history, sizes)
    warm_up(client)
    yield from sequential_decisions(client, sizes)
    yield from concurrent_decisions(client, sizes)
    yield from hot_decisions(client, sizes)
    yield from creating_decisions(client, sizes)


def decide(client: DcbClient[E, Q, P], entity: str, tenant: str) -> None:
    """The command pattern: read the entity's A/B events, append one unless one came since.

    Raises the client's conflict exception if another append matched the query after the
    last event read (or at all, if none was read).
    """
    query = client.query(DECISION_TYPES, (entity,))
    after: P | None = None
    for recorded in client.read(query):
        after = recorded.position
    event = client.event(DECISION_TYPE, DECISION_DATA, (entity, tenant))
    client.append([event], query, after)


def sequential_decisions(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """C1: one decision per entity, one after another."""
    yield from decisions_in_turn(client, sizes, "C1", lambda k: k % sizes.entities)


def creating_decisions(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """C4: as C1, each on an entity no event tagged before: the command that creates one
    (registering, ordering), whose read finds nothing and whose event brings a new tag."""
    yield from decisions_in_turn(client, sizes, "C4", lambda k: f"new-{k}")


def decisions_in_turn(
    client: DcbClient[E, Q, P], sizes: Sizes, metric: str, entity_of: Callable[[int], int | str]
) -> Iterator[Step]:
    clock = Clock()
    for part in slices(range(sizes.sequential), sizes.rounds):
        yield PAUSE
        with clock:
            for k in part:
                decide(client, entity_tag(entity_of(k)), tenant_tag(k))
    yield rate_figure(metric, clock.rate(sizes.sequential), "decision")


def concurrent_decisions(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """C2: threads deciding on entities of their own, which must never conflict.

    Thread t takes entities t, t + threads, t + 2 threads, ...; a conflict would be a false
    one (nobody else writes those entities), so it is counted, printed, and retried. The
    threads run in a few rounds, each a turn of its own, each round on the next entities.
    """
    rounds = min(sizes.rounds, 5)
    per_round = -(-sizes.concurrent // (sizes.threads * rounds))
    conflicts = 0
    seconds = 0.0
    for r in range(rounds):
        yield PAUSE
        failed, elapsed = own_entities_round(client, sizes.threads, r * per_round, per_round)
        conflicts += failed
        seconds += elapsed
    check = "ok" if conflicts == 0 else "NOT MET: must be 0"
    note = f"AppendConditionFailed {conflicts:,} ({check})"
    made = rounds * per_round * sizes.threads
    yield rate_figure("C2", Rate(made, seconds), "decision", note)


def own_entities_round(
    client: DcbClient[E, Q, P], threads: int, first: int, per_thread: int
) -> tuple[int, float]:
    """Each thread t decides once on entities t + threads * k for ``per_thread`` k from
    ``first``, retrying after a conflict; the conflicts counted and the wall time."""
    conflict = client.conflict

    def work(t: int) -> int:
        conflicts = 0
        for k in range(first, first + per_thread):
            entity = t + threads * k
            while True:
                try:
                    decide(client, entity_tag(entity), tenant_tag(entity))
                    break
                except conflict:
                    conflicts += 1
        return conflicts

    results, seconds = run_threads(threads, work)
    return sum(results), seconds


def hot_decisions(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """C3: every thread decides on one entity, re-reading and retrying after each conflict.

    Optimistic concurrency has to let exactly one of each racing decision through: at the end
    the entity must hold exactly as many events as there were successful appends.
    """
    rounds = min(sizes.rounds, 5)
    per_round = -(-sizes.hot_successes // rounds)
    successes = conflicts = 0
    seconds = 0.0
    for _ in range(rounds):
        yield PAUSE
        won, lost, elapsed = one_entity_round(
            client, sizes.threads, per_round, sizes.hot_seconds / rounds
        )
        successes += won
        conflicts += lost
        seconds += elapsed
    stored = count(client, client.query((), (HOT_ENTITY,)))
    if stored == successes:
        check = "final count exact"
    else:
        check = f"!!! MISMATCH: {stored:,} events stored for {successes:,} successes !!!"
    note = f"{successes:,} succeeded, {conflicts:,} conflicts; {check}"
    yield rate_figure("C3", Rate(successes, seconds), "decision", note)


def one_entity_round(
    client: DcbClient[E, Q, P], threads: int, target: int, limit: float
) -> tuple[int, int, float]:
    """Threads deciding on HOT_ENTITY until ``target`` succeeded (or ``limit`` seconds passed);
    the successes, the conflicts and the wall time."""
    conflict = client.conflict
    tenant = tenant_tag(0)
    lock = threading.Lock()
    succeeded = [0]
    deadline = time.perf_counter() + limit

    def work(t: int) -> tuple[int, int]:
        won = lost = 0
        while succeeded[0] < target and time.perf_counter() < deadline:
            try:
                decide(client, HOT_ENTITY, tenant)
            except conflict:
                lost += 1
                continue
            won += 1
            with lock:
                succeeded[0] += 1
        return won, lost

    results, seconds = run_threads(threads, work)
    return sum(w for w, _ in results), sum(lost for _, lost in results), seconds


# --- D: reads ---------------------------------------------------------------------------------


def reads(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """D: load, then read single entities (latency) and stream one event type (throughput)."""
    clock = Clock()
    yield from load(client, sizes.loaded, sizes, clock)
    yield rate_figure("D-load", clock.rate(sizes.loaded), "event")
    yield from entity_read_latency(client, sizes)
    yield from stream_one_type(client, sizes)
    yield from stream_one_type(client, sizes, every_field=True)


def entity_read_latency(client: DcbClient[E, Q, P], sizes: Sizes) -> Iterator[Step]:
    """Time reading all of one random entity's events, many times; p50 and p95."""
    rng = random.Random(7)
    entities = [rng.randrange(sizes.entities) for _ in range(WARMUP_READS + sizes.entity_reads)]
    expected = sizes.loaded // sizes.entities
    waits: list[float] = []
    wrong = 0
    clock = time.perf_counter
    for part in slices(list(enumerate(entities)), sizes.rounds):
        yield PAUSE
        for n, entity in part:
            start = clock()
            found = count(client, client.query((), (entity_tag(entity),)))
            wait = clock() - start
            wrong += found != expected
            if n >= WARMUP_READS:
                waits.append(wait)
    waits.sort()
    note = f"{expected:,} events per read, {len(waits):,} reads"
    if wrong:
        note += f"; !!! {wrong} reads did not find {expected} events !!!"
    yield Figure("D-p50", percentile(waits, 0.5) * 1e3, note)
    yield Figure("D-p95", percentile(waits, 0.95) * 1e3)


def stream_one_type(
    client: DcbClient[E, Q, P], sizes: Sizes, every_field: bool = False
) -> Iterator[Step]:
    """Read every event of type A (a quarter of the store), best of a few rounds; with
    ``every_field``, reading each event's position, type, data and tags, as a consumer does."""
    metric = "D-fields" if every_field else "D-stream"
    query = client.query(("A",))
    expected = sizes.loaded // 4
    fields = client.fields
    best: Rate | None = None
    for _ in range(sizes.stream_rounds):
        yield PAUSE
        start = time.perf_counter()
        found = 0
        if every_field:
            for recorded in client.read(query):
                fields(recorded)
                found += 1
        else:
            for _ in client.read(query):
                found += 1
        rate = Rate(found, time.perf_counter() - start)
        if found != expected:
            yield Figure(metric, 0.0, f"!!! streamed {found:,}, expected {expected:,} !!!")
            return
        if best is None or rate.per_second > best.per_second:
            best = rate
    if best is not None:
        note = f"{expected:,} events, best of {sizes.stream_rounds}"
        yield rate_figure(metric, best, "event", note)


# --- shared pieces ----------------------------------------------------------------------------


class Clock:
    """Adds up the time spent inside ``with clock:`` blocks, which turns are made of."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._start

    def rate(self, ops: int) -> Rate:
        return Rate(ops, self.seconds)


def slices(items: Sequence[T], rounds: int) -> Iterator[Sequence[T]]:
    """``items`` in ``rounds`` nearly equal consecutive parts (fewer if there are fewer items)."""
    size = max(1, -(-len(items) // rounds))
    for first in range(0, len(items), size):
        yield items[first : first + size]


def load(
    client: DcbClient[E, Q, P], events: int, sizes: Sizes, clock: Clock | None = None
) -> Iterator[Step]:
    """Append events 0 .. events-1 in batches without condition, pausing between rounds."""
    clock = clock or Clock()
    for part in slices(range(0, events, sizes.batch), sizes.rounds):
        yield PAUSE
        for first in part:
            batch = make_events(client, first, min(first + sizes.batch, events), sizes.entities)
            with clock:
                client.append(batch)


def warm_up(client: DcbClient[E, Q, P]) -> None:
    """One append and one read before the clock starts: first-use costs are not the figure."""
    tag = entity_tag("warm-up")
    client.append([client.event("D", data(-2), (tag, tenant_tag(0)))])
    count(client, client.query((), (tag,)))


def count(client: DcbClient[E, Q, P], query: Q) -> int:
    found = 0
    for _ in client.read(query):
        found += 1
    return found


def run_threads(threads: int, work: Callable[[int], T]) -> tuple[list[T], float]:
    """Run ``work(t)`` in threads started together; their results and the wall time.

    The clock starts once every thread is ready, and threads are daemons, so a Ctrl-C in the
    main thread is not held up by them; the first error in any thread is raised here.
    """
    barrier = threading.Barrier(threads + 1)
    results: list[T | None] = [None] * threads
    errors: list[BaseException] = []

    def run(t: int) -> None:
        barrier.wait()
        try:
            results[t] = work(t)
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)

    pool = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return [r for r in results if r is not None], seconds


WORKLOADS: dict[str, Workload] = {
    "A": appends_single,
    "B": appends_batched,
    "C": decisions,
    "D": reads,
}
