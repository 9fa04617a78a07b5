"""The event store under real concurrency: threads of one process and separate processes.

No mocks: every test runs real threads (one shared store, as an application does) or real
worker processes (``dcb_worker.py``, each with its own store on the same directory). They show
the DCB guarantees: appends with disjoint conditions never conflict, overlapping conditions let
exactly one writer win, conditional read-decide-append loses no update, unconditional appends
are neither lost, duplicated nor interleaved, retries after commit_unknown_result are
exactly-once, and a live subscription in one process sees another's append within 100 ms.
"""

from __future__ import annotations

import bisect
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import pytest

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    DcbStore,
    Event,
    Position,
    Query,
    QueryItem,
    SequencedEvent,
    open_store,
)
from fairway_django.engine import FDBError, NotCommitted, RetryPolicy
from fairway_django.engine.embedded import Fault

from .support import number_names, run_threads

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("dcb_worker.py")
#: Decision queries name these types, as a command deciding on an entity would.
TYPES = ("A", "B")
#: Seconds a worker may stay silent before the test gives up on it.
WORKER_TIMEOUT = 30.0


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def shared_url(tmp_path: Path) -> str:
    return f"embedded://{tmp_path}/store"


@pytest.fixture
def stores() -> Iterator[Callable[..., DcbStore]]:
    """``stores(url, retry=...)`` opens a store that is closed after the test."""
    opened: list[DcbStore] = []

    def open_(url: str, *, retry: RetryPolicy | None = None) -> DcbStore:
        store = open_store(url, retry=retry)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def number_the_shared_type(store: DcbStore) -> None:
    """Give the decisions' event type its dictionary number before they race. Their entities
    are disjoint, their type is not: on a store that never saw it, every decider's first
    append brings it, and two appends that both number one name conflict (docs/dcb.md)."""
    number_names(store, [Event("A", b"", [])])


def entity_query(entity: str) -> Query:
    return Query([QueryItem(types=TYPES, tags=[f"entity:{entity}"])])


class Worker:
    """One ``dcb_worker.py`` process: lines to its stdin, lines (read by a thread) from stdout."""

    def __init__(self, url: str, retry: str, command: str, *args: str) -> None:
        self._stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by kill)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), url, retry, command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def line(self, timeout: float = WORKER_TIMEOUT) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            silent = f"worker silent for {timeout}s; stderr:\n{self.stderr()}"
            raise AssertionError(silent) from None
        if line is None:
            self.process.wait(5)
            raise AssertionError(
                f"worker exited ({self.process.returncode}); stderr:\n{self.stderr()}"
            )
        return line

    def json(self, timeout: float = WORKER_TIMEOUT) -> Any:
        return json.loads(self.line(timeout))

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def finish(self) -> None:
        """Close stdin and require a clean exit."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(WORKER_TIMEOUT)
        assert code == 0, f"worker exited {code}; stderr:\n{self.stderr()}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


@pytest.fixture
def workers_for() -> Iterator[Callable[..., list[Worker]]]:
    """``workers_for(n, url, retry, command, *args)``: n workers, all ``ready``, not released.

    ``args`` may hold ``{i}``, replaced by each worker's index. Leftovers are killed at teardown.
    """
    started: list[Worker] = []

    def start(count: int, url: str, retry: str, command: str, *args: str) -> list[Worker]:
        workers = [
            Worker(url, retry, command, *(arg.format(i=i) for arg in args)) for i in range(count)
        ]
        started.extend(workers)
        for worker in workers:
            assert worker.line() == "ready"
        return workers

    yield start
    for worker in started:
        worker.kill()


def release(workers: list[Worker]) -> None:
    """Let ready workers go, as close to together as the pipes allow."""
    for worker in workers:
        worker.send("go")


def interleaved(
    log: list[SequencedEvent], decisions: list[tuple[Position | None, Position]]
) -> int:
    """How many decisions had another commit land between their read and their append.

    A decision notes the head right after its read; an event positioned after that head and
    before the decision's own append was committed in between, and would have failed the
    append (or made it conflict) had its entity overlapped.
    """
    positions = [event.position for event in log]
    count = 0
    for head, appended in decisions:
        first_after_head = 0 if head is None else bisect.bisect_right(positions, head)
        if bisect.bisect_left(positions, appended) > first_after_head:
            count += 1
    return count


# -- 1 and 2: disjoint conditions never conflict --------------------------------------------


@dataclass
class Decisions:
    """What one deciding thread saw."""

    ok: int = 0
    condition_failed: int = 0
    engine_errors: list[FDBError] = field(default_factory=list)
    made: list[tuple[Position | None, Position]] = field(default_factory=list)


def decide(
    store: DcbStore,
    name: str,
    entities: int,
    count: int,
    into: Decisions,
    between: Callable[[], object] | None = None,
) -> None:
    """``count`` command-pattern decisions round robin over entities ``<name>-0``...: read,
    note the head, call ``between`` (if any), append with the condition built from the same
    query and the last position read."""
    for i in range(count):
        entity = f"{name}-{i % entities}"
        query = entity_query(entity)
        seen = list(store.read(query))
        after = seen[-1].position if seen else None
        head = store.head()
        if between is not None:
            between()
        event = Event("A", f"{name}:{i}".encode(), [f"entity:{entity}"])
        try:
            appended = store.append([event], AppendCondition(query, after))
        except AppendConditionFailed:
            into.condition_failed += 1
        except FDBError as error:
            into.engine_errors.append(error)
        else:
            into.ok += 1
            into.made.append((head, appended))


def test_disjoint_decisions_in_threads_never_conflict(
    shared_url: str, stores: Callable[..., DcbStore]
) -> None:
    """8 threads, 100 decisions each on their own entities, on one store that retries
    nothing. In every round all threads read, then all append at once, so each append but the
    round's first lands after other threads committed since its read. Not one
    AppendConditionFailed and not one engine conflict (a condition reads only its own entity's
    index ranges), and the log holds exactly the 800 events."""
    threads, per_thread = 8, 100
    store = stores(shared_url, retry=RetryPolicy(retry_limit=0))
    number_the_shared_type(store)
    results = [Decisions() for _ in range(threads)]
    lockstep = threading.Barrier(threads, timeout=30)

    def run(index: int) -> None:
        decide(store, f"t{index}", 4, per_thread, results[index], between=lockstep.wait)

    run_threads(threads, run)

    assert [r.engine_errors for r in results] == [[]] * threads
    assert [r.condition_failed for r in results] == [0] * threads
    assert [r.ok for r in results] == [per_thread] * threads
    log = list(store.read())
    assert len(log) == threads * per_thread
    assert sorted(e.event.data for e in log) == sorted(
        f"t{t}:{i}".encode() for t in range(threads) for i in range(per_thread)
    )
    assert {p for r in results for _, p in r.made} == {e.position for e in log}
    # The threads really raced: in each round all but the first append saw other threads
    # commit between their read and their append, which is exactly when an overlapping
    # condition would have conflicted.
    made = [d for r in results for d in r.made]
    assert interleaved(log, made) >= (threads - 1) * per_thread


def test_the_conflict_check_is_not_vacuous(
    shared_url: str, stores: Callable[..., DcbStore]
) -> None:
    """The control for the test above: the same threads deciding on *shared* entities do get
    AppendConditionFailed or, with retries off, engine conflicts (NotCommitted)."""
    threads = 4
    store = stores(shared_url, retry=RetryPolicy(retry_limit=0))
    results = [Decisions() for _ in range(threads)]
    start = threading.Barrier(threads)

    def run(index: int) -> None:
        start.wait()
        decide(store, "shared", 1, 50, results[index])

    run_threads(threads, run)

    refused = sum(r.condition_failed + len(r.engine_errors) for r in results)
    assert refused > 0
    assert all(isinstance(e, NotCommitted) for r in results for e in r.engine_errors)
    assert len(list(store.read())) == sum(r.ok for r in results)


def test_disjoint_decisions_in_processes_never_conflict(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """4 processes on one store directory, 100 decisions each on their own entities with
    retries off: zero condition failures, zero engine conflicts, every event present once."""
    processes, per_process = 4, 100
    number_the_shared_type(stores(shared_url))
    workers = workers_for(processes, shared_url, "0", "decide", "p{i}", "4", str(per_process))
    release(workers)
    results = [worker.json() for worker in workers]
    for worker in workers:
        worker.finish()

    assert [(r["engine_errors"], r["condition_failed"]) for r in results] == [(0, 0)] * processes
    assert [r["ok"] for r in results] == [per_process] * processes
    log = list(stores(shared_url).read())
    assert len(log) == processes * per_process
    assert Counter(e.event.data for e in log) == Counter(
        f"p{p}:{i}".encode() for p in range(processes) for i in range(per_process)
    )
    made = [
        (None if head is None else Position.parse(head), Position.parse(appended))
        for r in results
        for head, appended in r["decisions"]
    ]
    assert {p for _, p in made} == {e.position for e in log}
    # Free-running processes interleave as the scheduler lets them; usually 10-60% of the
    # decisions see another process commit between their read and their append.
    assert interleaved(log, made) >= len(made) // 50, "the processes hardly overlapped"


# -- 3 and 4: overlapping conditions, exactly one winner -------------------------------------


@pytest.mark.parametrize("options", ["", "?durability=none&faults=0.1&fault_seed=1"])
def test_racing_threads_on_one_entity_have_exactly_one_winner(
    shared_url: str, stores: Callable[..., DcbStore], options: str
) -> None:
    """6 threads read the same entity state, then all append with that condition at once
    (half of them type A, half type B: the condition covers both): in each of 20 rounds
    exactly one append lands and every other one fails its condition, naming the winner's
    event. The same with injected commit faults and retries."""
    threads, rounds = 6, 20
    store = stores(shared_url + options)
    query = entity_query("contested")
    outcomes: list[list[tuple[int, Position | AppendConditionFailed]]] = [[] for _ in range(rounds)]
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def run(index: int) -> None:
        for round_ in range(rounds):
            seen = list(store.read(query))
            after = seen[-1].position if seen else None
            barrier.wait()  # everyone has read the same state
            type_ = TYPES[index % 2]
            event = Event(type_, f"{round_}:{index}".encode(), ["entity:contested"])
            outcome: Position | AppendConditionFailed
            try:
                outcome = store.append([event], AppendCondition(query, after))
            except AppendConditionFailed as failed:
                outcome = failed
            with lock:
                outcomes[round_].append((index, outcome))
            barrier.wait()  # the round is over before anyone reads again

    run_threads(threads, run)

    log = list(store.read(query))
    assert len(log) == rounds
    for round_, results in enumerate(outcomes):
        winners = [(i, o) for i, o in results if isinstance(o, Position)]
        assert len(winners) == 1, f"round {round_}: {len(winners)} winners"
        winner, position = winners[0]
        assert log[round_].position == position
        assert log[round_].event.data == f"{round_}:{winner}".encode()
        losers = [o for _, o in results if isinstance(o, AppendConditionFailed)]
        assert len(losers) == threads - 1
        assert all(failed.position == position for failed in losers)


def test_racing_processes_on_one_entity_have_exactly_one_winner(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """3 processes read the same entity state, then append with that condition on the same
    signal: in each of 10 rounds exactly one wins and the others fail their condition."""
    processes, rounds = 3, 10
    workers = workers_for(processes, shared_url, "default", "race", "contested", "w{i}")
    release(workers)
    winners_by_round: list[list[str]] = []
    for round_ in range(rounds):
        for worker in workers:
            worker.send("read")
        reads = {worker.line() for worker in workers}
        assert len(reads) == 1, f"round {round_}: workers read different states {reads}"
        for worker in workers:
            worker.send(f"append {round_}")
        results = [(i, worker.json()) for i, worker in enumerate(workers)]
        assert all(r["round"] == round_ for _, r in results)
        winners_by_round.append([f"{round_}:w{i}" for i, r in results if r["won"]])
    for worker in workers:
        worker.send("stop")
        assert worker.json() == {"stopped": True}
        worker.finish()

    assert [len(w) for w in winners_by_round] == [1] * rounds
    log = list(stores(shared_url).read(entity_query("contested")))
    assert [e.event.data.decode() for e in log] == [w[0] for w in winners_by_round]


# -- 5 and 7: read-decide-append counters lose no update -------------------------------------


@dataclass
class Increment:
    value: int
    position: Position


def count_concurrently(
    store: DcbStore, threads: int, per_thread: int
) -> tuple[list[list[Increment]], int]:
    """Each thread increments a counter entity ``per_thread`` times: read its events, append
    ``count + 1`` on the condition that nothing matching came after the read; on
    AppendConditionFailed, read again and retry. Returns each thread's increments and how
    many appends failed their condition (the contention there was)."""
    query = entity_query("counter")
    done: list[list[Increment]] = [[] for _ in range(threads)]
    failed = [0] * threads
    start = threading.Barrier(threads)

    def run(index: int) -> None:
        start.wait()
        while len(done[index]) < per_thread:
            seen = list(store.read(query))
            value = len(seen) + 1
            after = seen[-1].position if seen else None
            event = Event("B", str(value).encode(), ["entity:counter"], {"by": str(index)})
            try:
                position = store.append([event], AppendCondition(query, after))
            except AppendConditionFailed:
                failed[index] += 1
                continue
            done[index].append(Increment(value, position))

    run_threads(threads, run)
    return done, sum(failed)


def assert_counted_exactly_once(store: DcbStore, done: list[list[Increment]]) -> None:
    log = list(store.read(entity_query("counter")))
    total = sum(map(len, done))
    values = [int(e.event.data) for e in log]
    assert values == list(range(1, total + 1)), "lost or duplicated updates"
    positions = [e.position for e in log]
    assert all(a < b for a, b in pairwise(positions)), "positions not increasing"
    # Every success a thread was told about is in the log at the value it decided, and the log
    # holds nothing else: no append was applied twice or applied while reported as failed.
    by_position = {e.position: int(e.event.data) for e in log}
    assert {i.position: i.value for thread in done for i in thread} == by_position
    for index, increments in enumerate(done):
        assert [i.value for i in increments] == sorted(i.value for i in increments)
        assert all(log[i.value - 1].event.metadata == {"by": str(index)} for i in increments)


def test_contended_counter_loses_no_update(
    shared_url: str, stores: Callable[..., DcbStore]
) -> None:
    """8 threads increment one counter through conditional appends, retrying when the
    condition fails: the values are exactly 1..200 in position order, with no gap (a lost
    update) and no duplicate (two writers deciding on the same state)."""
    store = stores(shared_url)
    done, failed = count_concurrently(store, threads=8, per_thread=25)
    assert_counted_exactly_once(store, done)
    assert failed > 0, "the threads never contended"


@pytest.mark.parametrize("seed", [7, 11])
def test_contended_counter_is_exactly_once_under_injected_faults(
    shared_url: str, stores: Callable[..., DcbStore], seed: int
) -> None:
    """The counter again, with 10% of commits failing as FDB's can (not_committed,
    transaction_too_old, commit_unknown_result applied or not) and the default retry policy:
    still exactly 1..total. A retry after an applied-but-unknown commit returns that commit's
    position instead of appending again or failing on its own event."""
    store = stores(f"{shared_url}?durability=none&faults=0.1&fault_seed={seed}")
    drawn: Counter[Fault | None] = Counter()
    faults = store.database.faults  # type: ignore[attr-defined]
    draw = faults.draw

    def counted_draw() -> Fault | None:  # observes, changes nothing
        fault: Fault | None = draw()
        drawn[fault] += 1
        return fault

    faults.draw = counted_draw
    done, failed = count_concurrently(store, threads=8, per_thread=40)
    assert_counted_exactly_once(store, done)
    assert failed > 0, "the threads never contended"
    assert drawn[Fault.UNKNOWN_RESULT_APPLIED] >= 3, f"too few applied-unknown faults: {drawn}"


def test_counter_shared_by_processes_and_threads_is_exactly_once_under_faults(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """The counter incremented at once by 2 processes (each its own store handle and fault
    draws) and 3 threads of this one, 10% of commits failing: still exactly 1..total, and
    every increment each writer was told succeeded is in the log at the value it decided."""
    url = f"{shared_url}?durability=none&faults=0.1&fault_seed=3"
    workers = workers_for(2, url, "default", "count", "p{i}", "40")
    store = stores(url)
    release(workers)
    done, failed = count_concurrently(store, threads=3, per_thread=30)
    reports = [worker.json() for worker in workers]
    for worker in workers:
        worker.finish()

    log = list(store.read(entity_query("counter")))
    assert [int(e.event.data) for e in log] == list(range(1, 3 * 30 + 2 * 40 + 1))
    told = {i.position: i.value for thread in done for i in thread}
    for report in reports:
        told.update({Position.parse(pos): value for value, pos in report["increments"]})
    assert told == {e.position: int(e.event.data) for e in log}
    by = Counter(e.event.metadata["by"] for e in log if e.event.metadata is not None)
    assert by == {"p0": 40, "p1": 40, "0": 30, "1": 30, "2": 30}
    assert failed + sum(r["condition_failed"] for r in reports) > 0, "the writers never contended"


# -- 6: unconditional appends: none lost, none duplicated, none interleaved ------------------


def assert_appends_whole_and_once(
    log: list[SequencedEvent],
    expected: dict[str, list[int]],
    reported: dict[str, list[Position]],
) -> None:
    """``expected[writer]`` lists the event count of each of its appends, in order; events of
    append ``i`` carry ``<writer>:<i>:<k>``. Each append must appear once, whole, its events
    consecutive and in order, sharing one commit; a writer's appends in its own order; and the
    position each append returned must be its last event's."""
    assert len({e.event.data for e in log}) == len(log), "duplicated events"
    assert sum(map(sum, expected.values())) == len(log), "lost or extra events"
    index = 0
    next_append = dict.fromkeys(expected, 0)
    while index < len(log):
        writer, append, order = log[index].event.data.decode().split(":")
        assert int(append) == next_append[writer], f"{writer}'s appends out of order"
        assert order == "0", f"append {writer}:{append} does not start at its first event"
        size = expected[writer][int(append)]
        group = log[index : index + size]
        assert [e.event.data.decode() for e in group] == [
            f"{writer}:{append}:{k}" for k in range(size)
        ], f"append {writer}:{append} interleaved with another"
        assert {e.position.raw[:10] for e in group} == {group[0].position.raw[:10]}
        assert [int.from_bytes(e.position.raw[10:], "big") for e in group] == list(range(size))
        assert reported[writer][int(append)] == group[-1].position
        next_append[writer] += 1
        index += size
    assert next_append == {w: len(sizes) for w, sizes in expected.items()}


def append_from_threads(
    store: DcbStore, sizes: dict[str, list[int]], *, tagged: bool
) -> dict[str, list[Position]]:
    """One thread per name, all released together, each making appends of the given sizes
    (event data ``name:append:index``); the positions each append returned, per name."""
    names = list(sizes)
    reported: dict[str, list[Position]] = {name: [] for name in names}
    start = threading.Barrier(len(names))

    def run(index: int) -> None:
        name = names[index]
        tags = [f"writer:{name}"] if tagged else []
        start.wait()
        for i, size in enumerate(sizes[name]):
            events = [Event("C", f"{name}:{i}:{k}".encode(), tags) for k in range(size)]
            reported[name].append(store.append(events))

    run_threads(len(names), run)
    return reported


def test_concurrent_unconditional_appends_from_threads_and_processes(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """4 threads and 2 processes append at once, with 1 to 5 events per append: every event is
    stored exactly once, and each append's events are consecutive and in order."""
    threads, processes, appends, per_process_append = 4, 2, 60, 3
    store = stores(shared_url)
    workers = workers_for(
        processes, shared_url, "default", "append", "p{i}", str(appends), str(per_process_append)
    )
    sizes = {f"t{t}": [1 + (i + t) % 5 for i in range(appends)] for t in range(threads)}
    release(workers)
    reported = append_from_threads(store, sizes, tagged=True)
    for p, worker in enumerate(workers):
        reported[f"p{p}"] = [Position.parse(text) for text in worker.json()["positions"]]
        sizes[f"p{p}"] = [per_process_append] * appends
        worker.finish()

    assert_appends_whole_and_once(list(store.read()), sizes, reported)


def test_unconditional_appends_are_exactly_once_under_injected_faults(
    shared_url: str, stores: Callable[..., DcbStore]
) -> None:
    """Blind appends retried through injected commit_unknown_result faults: no append is
    stored twice (its retry finds its own id) and none is lost."""
    threads, appends = 4, 50
    store = stores(f"{shared_url}?durability=none&faults=0.2&fault_seed=5")
    sizes = {f"t{t}": [1 + (i + t) % 3 for i in range(appends)] for t in range(threads)}
    reported = append_from_threads(store, sizes, tagged=False)
    assert_appends_whole_and_once(list(store.read()), sizes, reported)


# -- 8: live subscriptions across processes --------------------------------------------------


def test_a_subscription_sees_another_process_append_within_100ms(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """A caught-up subscription here receives an event appended by another process within
    100 ms of the append call (worker's time.time() before calling append to our time.time()
    on receipt; one machine, one clock), in each of 10 tries."""
    store = stores(shared_url)
    store.append([Event("Ping", b"-1", ["other"])])  # the log exists before subscribing
    received: queue.Queue[tuple[float, SequencedEvent]] = queue.Queue()
    subscription = store.subscribe(Query([QueryItem(types=["Ping"], tags=["live"])]))

    def listen() -> None:
        for event in subscription:
            received.put((time.time(), event))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    (worker,) = workers_for(1, shared_url, "default", "publish", "live")
    release([worker])
    latencies = []
    try:
        for n in range(11):  # the first warms the worker's store up and is not measured
            time.sleep(0.05)  # the subscription is caught up and waiting on its watch
            worker.send(str(n))
            sent = worker.json()
            got_at, event = received.get(timeout=5)
            assert event.event.data == str(n).encode()
            assert str(event.position) == sent["position"]
            if n:
                latencies.append(got_at - sent["sent"])
        worker.send("stop")
        assert worker.json() == {"stopped": True}
        worker.finish()
    finally:
        subscription.stop()
        listener.join(10)
    assert not listener.is_alive()
    assert received.empty()
    assert max(latencies) < 0.100, [f"{1000 * s:.1f} ms" for s in latencies]


def test_a_subscription_receives_concurrent_appends_once_and_in_order(
    shared_url: str, stores: Callable[..., DcbStore], workers_for: Callable[..., list[Worker]]
) -> None:
    """While 2 processes and 2 threads append multi-event batches at once, a live subscription
    delivers every event exactly once, in position order: the same list a read returns."""
    store = stores(shared_url)
    received: list[SequencedEvent] = []
    subscription = store.subscribe(Query([QueryItem(types=["C"])]))

    def listen() -> None:
        received.extend(subscription)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    workers = workers_for(2, shared_url, "default", "append", "p{i}", "40", "3")
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        for i in range(40):
            store.append([Event("C", f"t{index}:{i}:{k}".encode()) for k in range(1 + i % 4)])

    release(workers)
    run_threads(2, run)
    for worker in workers:
        worker.json()
        worker.finish()
    log = list(store.read())
    deadline = time.monotonic() + 5
    while len(received) < len(log) and time.monotonic() < deadline:
        time.sleep(0.01)
    subscription.stop()
    listener.join(10)
    assert not listener.is_alive()
    assert len(log) == 2 * 40 * 3 + 2 * sum(1 + i % 4 for i in range(40))
    assert received == log


#: Appends an event to ``entity:x`` with every sync of its process stuck: a writer stopped
#: between its commit and its sync, a moment the kernel can stop any process at.
_STUCK_APPENDER = """
import os, sys, time
from fairway_django.dcb import Event, open_store
store = open_store(sys.argv[1])
store.head()
def stuck(fd):
    print("syncing", flush=True)
    time.sleep(600)
os.fdatasync = stuck
store.append([Event("A", b"unsynced", ["entity:x"])])
"""


def test_a_failed_condition_is_reported_only_once_what_failed_it_is_synced(
    tmp_path: Path,
) -> None:
    """An append may read what another process committed and has not synced yet (it defers
    that wait, so that processes share syncs); its failure, which tells what it saw, waits."""
    url = f"embedded://{tmp_path}/store?durability=full"
    store = open_store(url)
    # Every name known and numbered before: the append's only reads are its own.
    store.append([Event("B", b"other", ["entity:y"])])
    read_up_to = store.append([Event("A", b"synced", ["entity:x"])])
    writer = subprocess.Popen(
        [sys.executable, "-c", _STUCK_APPENDER, url], cwd=REPO_ROOT, stdout=subprocess.PIPE,
        text=True,
    )
    outcome: queue.Queue[BaseException | None] = queue.Queue()

    def append() -> None:  # decided on the synced event alone
        query = Query([QueryItem(types=TYPES, tags=["entity:x"])])
        try:
            store.append(
                [Event("A", b"mine", ["entity:x"])], AppendCondition(query, read_up_to)
            )
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome.put(error)
        else:
            outcome.put(None)

    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "syncing"  # committed, not synced
        threading.Thread(target=append, daemon=True).start()
        with pytest.raises(queue.Empty):  # no verdict while what decides it may be lost
            outcome.get(timeout=1.0)
    finally:
        writer.kill()
        writer.wait()
    # The writer died before its sync: the append synced it, then failed on it.
    verdict = outcome.get(timeout=10)
    assert isinstance(verdict, AppendConditionFailed), verdict
    assert [e.event.data for e in store.read(Query([QueryItem(tags=["entity:x"])]))] == [
        b"synced", b"unsynced"
    ]
    store.close()
