"""What running automations costs: queueing jobs, running them, and taking over a dead worker's.

- **queue**: a watcher turns 5,000 events (over 1,000 keys) into jobs, in its batches of 500,
  in one process, as ``run_automations`` does;
- **run, 1 and 2 worker processes**: no-op jobs, from a full queue until it is empty (each
  process a ``JobWorker`` as ``run_automations`` runs it; its lease, complete and heartbeat
  transactions are what is measured);
- **append to perform**: with a watcher and a worker idle, each in a process of its own (both
  waiting on engine watches), the time from an append's return until the job's ``perform``
  starts;
- **takeover**: a worker holds a job (its ``perform`` sleeps) and is killed with SIGKILL while a
  second worker waits for work; the time from the kill until the second worker runs the job.
  It is between two thirds of a lease and a whole one, since a live worker extends its lease
  every third of it.

Run:  python bench/automations.py [--jobs 5000] [--samples 100] [--kills 3] [--lease 3]
(about a minute; the embedded engine at its default durability, normal: the journal is synced
within 0.1 s, not at each commit)
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/codec.py

import argparse
import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from typing import Annotated, Any

from bench._timing import fan_out, machine, percentile, scratch_dir
from fairway_django.dcb import DcbStore, open_store
from fairway_django.framework import Event, Tag, on
from fairway_django.framework.automations import Automation, Job, RunningJob
from fairway_django.framework.codec import encode
from fairway_django.framework.jobs import JobQueue
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import Lease, process_owner
from fairway_django.framework.stopping import Stopping
from fairway_django.framework.tasks import run_task
from fairway_django.framework.watcher import AutomationWatcher
from fairway_django.framework.workers import JobWorker

KEYS = 1_000
#: The file where Reported's perform writes a line per attempt: "n attempt time pid". A file,
#: not a multiprocessing queue: a process killed while writing to a queue can leave its lock
#: held, and this one is killed on purpose. The environment carries it to child processes.
JOURNAL = "FAIRWAY_BENCH_JOURNAL"


class Pinged(Event):
    key: Annotated[str, Tag]
    n: int


class Noop(Automation):
    @on(Pinged)
    def pinged(self, event: Pinged) -> Job:
        return Job(event.key, {"n": event.n})

    def perform(self, job: RunningJob) -> None:
        pass


class Reported(Noop):
    """Says when each attempt starts; the first attempt at a job with ``hang`` never ends."""

    def perform(self, job: RunningJob) -> None:
        line = f"{job.data['n']} {job.attempt} {time.time()} {os.getpid()}\n"
        fd = os.open(os.environ[JOURNAL], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        if job.data["n"] < 0 and job.attempt == 1:
            time.sleep(3600)


def ping(store: DcbStore, count: int, first: int = 0) -> float:
    """Append ``count`` events, 1,000 per append; return when the last append returned."""
    rng = random.Random(first)
    for start in range(first, first + count, 1000):
        store.append([encode(Pinged(key=f"k{rng.randrange(KEYS)}", n=n))
                      for n in range(start, min(start + 1000, first + count))])
    return time.time()


def watch(store: DcbStore, automation: type[Automation], stopping: Stopping, once: bool) -> None:
    watcher = AutomationWatcher(automation, store)
    lease = Lease(keyspace_of(store).lease(watcher.lease_name), process_owner(), 10.0)
    run_task(watcher, store.database, lease, stopping, lambda *_: None, once=once)


def drain(index: int, barrier: Any, url: str) -> tuple[int, float]:
    """In a process of its own: run jobs until none is due; how many, and in how long."""
    with open_store(url) as store:
        worker = JobWorker([Noop], store)
        barrier.wait()
        started = time.perf_counter()
        done = worker.run(Stopping(), once=True)
        return done, time.perf_counter() - started


def serve(url: str, role: str, lease: float, ready: Connection) -> None:
    """In a process of its own: a watcher or a worker of Reported, until SIGTERM. (Not a shared
    stop event: killing a process that waits on one leaves the event broken for the others.)"""
    Reported.job_lease_seconds = lease
    stopping = Stopping()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with open_store(url) as store:
        ready.send(True)
        if role == "watcher":
            watch(store, Reported, stopping, once=False)
        else:
            JobWorker([Reported], store).run(stopping)


class Children:
    """Watcher and worker processes serving Reported, and what their jobs report."""

    def __init__(self, url: str, lease: float, journal: Path) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.url, self.lease = url, lease
        self.journal = journal
        self.seen = 0
        os.environ[JOURNAL] = str(journal)
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def start(self, role: str) -> multiprocessing.process.BaseProcess:
        ready, child_end = self.ctx.Pipe(duplex=False)  # a pipe: no semaphore for kill to leak
        process = self.ctx.Process(target=serve, args=(self.url, role, self.lease, child_end))
        process.start()
        self.processes.append(process)
        if not ready.poll(60):
            raise RuntimeError(f"the {role} process did not start")
        return process

    def next_performed(self) -> tuple[int, int, float, int]:
        """The next attempt a worker started: (n, attempt, time, pid). Polls the journal every
        millisecond (what is timed is the worker's own clock reading, not this poll)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = self.journal.read_text().splitlines() if self.journal.exists() else []
            if len(lines) > self.seen:
                n, attempt, at, pid = lines[self.seen].split()
                self.seen += 1
                return int(n), int(attempt), float(at), int(pid)
            time.sleep(0.001)
        raise TimeoutError("a job did not report within 60 s")

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()


def append_to_perform(url: str, samples: int, journal: Path) -> list[float]:
    children = Children(url, 30.0, journal)
    try:
        children.start("watcher")
        children.start("worker")
        delays = []
        with open_store(url) as store:
            rng = random.Random(3)
            for n in range(samples):
                time.sleep(rng.uniform(0.01, 0.03))  # the watcher and worker idle again
                appended = ping(store, 1, first=1_000_000 + n)
                _, _, started, _ = children.next_performed()
                delays.append(started - appended)
        return delays
    finally:
        children.close()


def takeovers(url: str, kills: int, lease: float, journal: Path) -> list[float]:
    children = Children(url, lease, journal)
    try:
        children.start("watcher")
        children.start("worker")
        waits = []
        with open_store(url) as store:
            for n in range(kills):
                store.append([encode(Pinged(key=f"hang{n}", n=-1 - n))])
                _, attempt, _, pid = children.next_performed()
                holder = next(p for p in children.processes if p.pid == pid)
                children.start("worker")  # the one that takes over
                time.sleep(random.uniform(0, lease))  # kill at any point of a heartbeat cycle
                holder.kill()
                killed = time.time()
                _, attempt, started, pid = children.next_performed()
                assert attempt == 2 and pid != holder.pid
                waits.append(started - killed)
        return waits
    finally:
        children.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--lease", type=float, default=3.0, help="job_lease_seconds")
    parser.add_argument("--dir", help="where to put the store (default: var/bench)")
    args = parser.parse_args()
    print(machine())
    for processes in (1, 2):
        with scratch_dir(args.dir) as directory:
            url = f"embedded://{directory}/store"
            with open_store(url) as store:
                ping(store, args.jobs)
                started = time.perf_counter()
                watch(store, Noop, Stopping(), once=True)
                seconds = time.perf_counter() - started
                if processes == 1:
                    print(f"queue: {args.jobs:,} jobs ({KEYS:,} keys) in {seconds:.2f} s = "
                          f"{args.jobs / seconds:,.0f} jobs/s")
            results = fan_out(drain, processes, url)
            with open_store(url) as store:
                left = JobQueue(store, Noop).stats().queued
            done = sum(count for count, _ in results)
            wall = max(seconds for _, seconds in results)
            print(f"run, {processes} worker process{'es' if processes > 1 else ''}: "
                  f"{done:,} no-op jobs in {wall:.2f} s = {done / wall:,.0f} jobs/s"
                  f" ({', '.join(f'{count:,}' for count, _ in results)} each; {left} left)")
    with scratch_dir(args.dir) as directory:
        url = f"embedded://{directory}/store"
        delays = sorted(append_to_perform(url, args.samples, directory / "performed"))
        p50, p99 = percentile(delays, 0.5) * 1e3, percentile(delays, 0.99) * 1e3
        print(f"append to perform, idle watcher and worker: p50 {p50:.1f} ms, p99 {p99:.1f} ms,"
              f" worst {delays[-1] * 1e3:.1f} ms over {len(delays)} events")
        waits = takeovers(url, args.kills, args.lease, directory / "taken-over")
        print(f"takeover after SIGKILL, job_lease_seconds={args.lease:g}: "
              + ", ".join(f"{wait:.2f} s" for wait in waits)
              + f" (expected {args.lease * 2 / 3:.1f} to {args.lease:.1f} s, plus the wake-up)")


if __name__ == "__main__":
    main()
