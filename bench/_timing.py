"""Timing, key-making, process fan-out and printing shared by the benchmarks.

Both benchmarks compare two ways of doing the same work in the same run, so they must time it
the same way: this module is the one place that decides how a rate or a wait is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import platform
import queue
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from types import FrameType
from typing import TypeVar

import lmdb

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
VALUE = b"v" * 100
#: Share of each measurement spent warming caches before the clock starts.
WARMUP_SHARE = 0.1


# --- keys -------------------------------------------------------------------------------------


def key(i: int) -> bytes:
    """Fixed-width keys, so key order is numeric order and a range of n keys is n keys."""
    return b"k%010d" % i


def shuffled_keys(count: int, store_size: int, seed: int = 1) -> list[bytes]:
    """Random existing keys, drawn up front so that drawing them is not what gets timed."""
    rng = random.Random(seed)
    return [key(rng.randrange(store_size)) for _ in range(count)]


def preload_items(store_size: int, batch: int) -> Iterator[list[tuple[bytes, bytes]]]:
    """The preloaded store's pairs in batches, each small enough for one transaction."""
    for start in range(0, store_size, batch):
        yield [(key(i), VALUE) for i in range(start, min(start + batch, store_size))]


# --- rates ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rate:
    ops: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def micros_per_op(self) -> float:
        return self.seconds / self.ops * 1e6 if self.ops else float("inf")


def race(seconds: float, rounds: int, ops: Sequence[Callable[[], int]]) -> list[Rate]:
    """Time several contenders in interleaved rounds and keep each one's best round.

    Other work on the machine (tests, other benchmarks, the disk's own hiccups) only ever
    slows an operation down, and it comes in bursts: interleaving spreads a burst over every
    contender, and the best round is the figure least polluted by it, as ``timeit`` advises.
    """
    share = seconds / rounds
    for op in ops:
        _loop(share * WARMUP_SHARE, op)
    best: list[Rate | None] = [None] * len(ops)
    for _ in range(rounds):
        for i, op in enumerate(ops):
            rate = _loop(share, op)
            current = best[i]
            if current is None or rate.per_second > current.per_second:
                best[i] = rate
    return [rate for rate in best if rate is not None]


def _loop(seconds: float, op: Callable[[], int]) -> Rate:
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    ops = 0
    now = start
    while now < deadline:
        ops += op()
        now = clock()
    return Rate(ops, now - start)


def cycling(items: Sequence[T]) -> Callable[[], T]:
    """A cheap ``next item`` function over a pre-drawn list, wrapping around at the end."""
    state = {"i": 0}
    n = len(items)

    def nxt() -> T:
        i = state["i"]
        state["i"] = i + 1 if i + 1 < n else 0
        return items[i]

    return nxt


# --- waits ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WaitStats:
    """What one process saw of its own commits: how many, and how long the worst ones took."""

    label: str
    commits: int
    seconds: float
    worst_ms: float
    p99_ms: float
    median_ms: float

    @classmethod
    def from_waits(cls, label: str, waits: list[float], seconds: float) -> WaitStats:
        ordered = sorted(waits)
        return cls(
            label=label,
            commits=len(ordered),
            seconds=seconds,
            worst_ms=ordered[-1] * 1e3 if ordered else 0.0,
            p99_ms=percentile(ordered, 0.99) * 1e3,
            median_ms=percentile(ordered, 0.5) * 1e3,
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))
    return ordered[rank]


def timed_commits(
    label: str, commit: Callable[[int], None], barrier: Barrier, seconds: float
) -> WaitStats:
    """Commit as fast as possible for ``seconds``, timing each commit from its first request.

    The barrier makes every process start its clock together, so nobody gets a head start
    while the others are still importing.
    """
    waits: list[float] = []
    clock = time.perf_counter
    barrier.wait()
    start = clock()
    deadline = start + seconds
    n = 0
    now = start
    while now < deadline:
        commit(n)
        done = clock()
        waits.append(done - now)
        n += 1
        now = done
    return WaitStats.from_waits(label, waits, now - start)


# --- processes --------------------------------------------------------------------------------


def fan_out(worker: Callable[..., T], processes: int, *args: object) -> list[T]:
    """Run ``worker(index, barrier, *args)`` in fresh spawned processes and collect results.

    Spawn, not fork: every process must open the store itself, as separate web workers do.
    A barrier can only reach a child when the child is created, hence plain processes.
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    children = [
        ctx.Process(target=_report, args=(results, worker, i, barrier, *args))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    try:
        return _collect(results, children)
    finally:
        for child in children:
            child.join()


def _report(
    results: Queue[tuple[int, object]], worker: Callable[..., T], index: int, *args: object
) -> None:
    try:
        outcome: object = worker(index, *args)
    except BaseException as error:  # noqa: BLE001 - the parent re-raises it with context
        outcome = RuntimeError(f"process {index} failed: {error!r}")
    results.put((index, outcome))


def _collect(results: Queue[tuple[int, object]], children: Sequence[BaseProcess]) -> list[T]:
    """Wait for every child's outcome; fail instead of hanging if one died without one."""
    outcomes: dict[int, object] = {}
    while len(outcomes) < len(children):
        try:
            index, outcome = results.get(timeout=1.0)
        except queue.Empty:
            if not any(child.is_alive() for child in children):
                raise RuntimeError("a benchmark process died without reporting") from None
            continue
        if isinstance(outcome, BaseException):
            raise outcome
        outcomes[index] = outcome
    return [outcomes[i] for i in range(len(children))]  # type: ignore[misc]


# --- files ------------------------------------------------------------------------------------


@contextmanager
def scratch_dir(parent: str | None) -> Iterator[Path]:
    """A fresh directory for the stores, removed afterwards whatever happens."""
    base = Path(parent) if parent else REPO_ROOT / "var" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- command line ---------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both benchmarks take, with the same meaning and defaults."""
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument(
        "--rounds", type=int, default=4, help="interleaved rounds per measurement (best kept)"
    )
    parser.add_argument(
        "--fair-seconds",
        type=float,
        default=None,
        help="how long the fairness processes commit (default: 5 x --seconds)",
    )
    parser.add_argument("--store-size", type=int, default=100_000, help="keys preloaded")
    parser.add_argument("--gets-per-txn", type=int, default=100)
    parser.add_argument("--range", type=int, default=1_000, dest="range_len")
    parser.add_argument("--batch", type=int, default=100, help="keys in the large commit")
    parser.add_argument("--processes", type=int, default=4, help="for the fairness run")
    parser.add_argument("--dir", default=None, help="parent of the scratch directory")


def finish_common_arguments(args: argparse.Namespace) -> argparse.Namespace:
    if args.fair_seconds is None:
        args.fair_seconds = 5 * args.seconds
    return args


# --- printing ---------------------------------------------------------------------------------


def versions() -> str:
    lmdb_version = ".".join(map(str, lmdb.version()))
    return f"python {platform.python_version()}, LMDB {lmdb_version} (py-lmdb {lmdb.__version__})"


def machine() -> str:
    """Cores and load: other work on a 2-core machine shows up in every figure, so say it."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}"


def fmt_rate(rate: float) -> str:
    return f"{rate:>12,.0f}/s"


def compare_line(what: str, a_label: str, a: Rate, b_label: str, b: Rate, ratio: str) -> str:
    """One printed line: both rates and ``a/b`` (how many times faster a is than b)."""
    return (
        f"{what:<34} {a_label:>14} {fmt_rate(a.per_second)} ({a.micros_per_op:8.1f} us)"
        f"   {b_label:>14} {fmt_rate(b.per_second)} ({b.micros_per_op:8.1f} us)"
        f"   {ratio} {ratio_of(a, b):5.2f}x"
    )


def ratio_of(a: Rate, b: Rate) -> float:
    return a.per_second / b.per_second if b.per_second else float("inf")


def wait_line(stats: WaitStats) -> str:
    return (
        f"  {stats.label:<28} commits {stats.commits:>7,} ({stats.commits / stats.seconds:7,.0f}/s)"
        f"  median {stats.median_ms:7.2f} ms  p99 {stats.p99_ms:7.2f} ms"
        f"  worst {stats.worst_ms:8.2f} ms"
    )


def fairness_summary(label: str, results: Sequence[WaitStats]) -> str:
    """Totals across processes, plus the spread that says whether anyone was starved."""
    total = sum(r.commits for r in results)
    seconds = max(r.seconds for r in results)
    fewest = min(r.commits for r in results)
    most = max(r.commits for r in results)
    worst = max(r.worst_ms for r in results)
    return (
        f"{label:<34} total {total / seconds:9,.0f} commits/s  fewest/most per process "
        f"{fewest:,}/{most:,} ({fewest / most if most else 0:.2f})  worst wait {worst:.2f} ms"
    )


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C does, so the servers a benchmark started and its scratch
    directory are cleaned up by the same ``finally`` blocks."""
    raise SystemExit(128 + signum)
