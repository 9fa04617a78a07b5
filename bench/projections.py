"""What keeping a read model costs: projector catch-up, and how soon a write shows.

- **catch-up, 1 process**: 100,000 events (tallies over 10,000 keys) applied to an empty
  document read model with one lookup, by the projector's own loop (``catch_up``: the batches
  ``run_projectors`` runs), in one process;
- **catch-up, 2 projections in 2 processes**: two such projections over the same log, each in
  its own process, started together: the rate of each, and of both together;
- **write to read**: with a runner idle (its thread waiting on the store, as ``run_projectors``
  does, in a process of its own), a command appends one event; the time from the command's
  return until the projection's checkpoint has passed the command's position, observed by a
  reader waiting on it (``ReadModel.wait_for``). Pauses between samples keep the runner idle.

Run:  python bench/projections.py [--events 100000] [--samples 300]   (about a minute)
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/codec.py

import argparse
import multiprocessing
import random
import threading
import time
from typing import Annotated

from bench._timing import fan_out, machine, percentile, scratch_dir
from fairway_django.dcb import DcbStore, open_store
from fairway_django.framework import Command, Event, Reader, Tag, on, run_command
from fairway_django.framework.codec import encode
from fairway_django.framework.documents import Documents
from fairway_django.framework.generations import Generations
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import Lease, process_owner
from fairway_django.framework.projections import Projection
from fairway_django.framework.projector import ProjectionTask, catch_up
from fairway_django.framework.readmodels import ReadModel
from fairway_django.framework.stopping import Stopping
from fairway_django.framework.tasks import run_task

KEYS = 10_000


class Counted(Event):
    key: Annotated[str, Tag]
    amount: int


class Tallies(Projection):
    """A document per key with its total, looked up by the total's parity."""

    lookups = {"parity": str}

    @on(Counted)
    def counted(self, docs: Documents, event: Counted) -> None:
        tally = docs.get(event.key) or {"total": 0, "count": 0}
        total = tally["total"] + event.amount
        docs.put(event.key, {"total": total, "count": tally["count"] + 1,
                             "parity": "even" if total % 2 == 0 else "odd"})


class OtherTallies(Tallies):
    """The same read model under another name: a second projection over the same events."""


class Count(Command):
    def decide(self, read: Reader, key: str) -> Counted:
        return Counted(key=key, amount=1)


def load(store: DcbStore, count: int) -> None:
    rng = random.Random(1)
    for start in range(0, count, 1000):
        store.append([
            encode(Counted(key=f"k{rng.randrange(KEYS)}", amount=rng.randrange(1, 100)))
            for _ in range(min(1000, count - start))
        ])


def timed_catch_up(index: int, barrier: object, url: str) -> tuple[int, float]:
    """In a process of its own: catch projection ``index`` up; events and seconds."""
    projection = (Tallies, OtherTallies)[index]
    with open_store(url) as store:
        barrier.wait()  # type: ignore[attr-defined]
        start = time.perf_counter()
        done = catch_up(projection, store)
        return done, time.perf_counter() - start


def idle_runner(url: str, ready: object, stop: object) -> None:
    """A process running Tallies the way run_projectors does, until ``stop`` is set."""
    with open_store(url) as store:
        generations = Generations(store, Tallies.slice_name)
        (generation,) = store.database.transact(lambda tr: generations.prepare(tr, 1))
        task = ProjectionTask(Tallies, generation, store)
        lease = Lease(keyspace_of(store).lease(task.lease_name), process_owner(), 5.0)
        stopping = Stopping()
        threading.Thread(target=lambda: (stop.wait(), stopping.set()),  # type: ignore[attr-defined]
                         daemon=True).start()
        ready.set()  # type: ignore[attr-defined]
        run_task(task, store.database, lease, stopping, lambda task, step: None)


def write_to_read(url: str, samples: int) -> list[float]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    runner = ctx.Process(target=idle_runner, args=(url, ready, stop))
    runner.start()
    delays = []
    try:
        ready.wait(60)
        with open_store(url) as store:
            tallies = ReadModel(Tallies, store)
            head = store.head()
            assert head is not None
            tallies.wait_for(head, timeout=120)  # caught up first: now the runner is idle
            rng = random.Random(2)
            for _ in range(samples):
                time.sleep(rng.uniform(0.005, 0.02))
                result = run_command(Count, {"key": f"k{rng.randrange(KEYS)}"}, store=store)
                answered = time.perf_counter()
                assert result.position is not None
                tallies.wait_for(result.position, timeout=10)
                delays.append(time.perf_counter() - answered)
    finally:
        stop.set()
        runner.join(30)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--dir", help="where to put the store (default: var/bench)")
    args = parser.parse_args()
    print(machine())
    with scratch_dir(args.dir) as directory:
        url = f"embedded://{directory}/store"
        with open_store(url) as store:
            started = time.perf_counter()
            load(store, args.events)
            print(f"loaded {args.events:,} events in {time.perf_counter() - started:.1f} s "
                  "(embedded engine, durability normal)")
        (done, seconds), = fan_out(timed_catch_up, 1, url)
        print(f"catch-up, 1 projection, 1 process: {done:,} events in {seconds:.2f} s = "
              f"{done / seconds:,.0f} events/s  (>= 20,000/s: "
              f"{'ok' if done / seconds >= 20_000 else 'NOT MET'})")
        with open_store(url) as store:  # start both over: drop what the first run built
            store.database.transact(lambda tr: Generations(store, Tallies.slice_name).drop(tr))
        both = fan_out(timed_catch_up, 2, url)
        wall = max(seconds for _, seconds in both)
        for index, (done, seconds) in enumerate(both):
            print(f"catch-up, 2 projections in 2 processes, projection {index + 1}: "
                  f"{done:,} events in {seconds:.2f} s = {done / seconds:,.0f} events/s")
        total = sum(done for done, _ in both)
        print(f"catch-up, 2 projections in 2 processes, together: {total / wall:,.0f} events/s "
              f"({total / wall / (both[0][0] / both[0][1]):.2f}x one projection's rate)")
        delays = sorted(write_to_read(url, args.samples))
        p50, p99 = percentile(delays, 0.5) * 1e3, percentile(delays, 0.99) * 1e3
        print(f"write to read, idle runner: p50 {p50:.1f} ms, p99 {p99:.1f} ms, worst "
              f"{delays[-1] * 1e3:.1f} ms over {len(delays)} commands  (p50 < 50 ms: "
              f"{'ok' if p50 < 50 else 'NOT MET'})")


if __name__ == "__main__":
    main()
