"""The embedded engine against raw LMDB doing the same work, in the same run.

Our requirement is that the engine costs at most 2x the raw backing store for point reads and
single-key commits, that processes committing on disjoint keys never conflict, and that no
process waits 100 ms or more for a commit while others keep committing. Every figure here is
printed next to raw LMDB opened with the same sync flags as the engine's durability setting,
so those requirements can be read off the output.

Run:  python bench/engine.py [--durability normal,full] [--seconds 2] [--fair-seconds 10]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stores import (
    KV,
    LMDB_DURABILITY,
    Contention,
    EngineSpec,
    LmdbSpec,
    Workload,
    commits,
    contention_worker,
    fairness_worker,
    point_gets,
    preload,
    standard_workloads,
)
from bench._timing import (
    Rate,
    add_common_arguments,
    compare_line,
    fairness_summary,
    fan_out,
    finish_common_arguments,
    machine,
    race,
    ratio_of,
    scratch_dir,
    versions,
    wait_line,
)

#: The workloads the 2x cost requirement applies to.
BOUNDED = {"point get, 1 txn per get", "point get, 100 per txn", "commit 1 key"}
MAX_COST = 2.0
MAX_WAIT_MS = 100.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--durability",
        default="normal",
        help="comma-separated engine settings to run, from full, normal, none",
    )
    add_common_arguments(parser)
    parser.add_argument("--hot-keys", type=int, default=4, help="counters shared when overlapping")
    parser.add_argument(
        "--growth-sizes",
        default="10000,1000000",
        help="store sizes compared for growth, run at the first durability ('' to skip)",
    )
    args = parser.parse_args(argv)
    args.durability = [d.strip() for d in args.durability.split(",") if d.strip()]
    unknown = [d for d in args.durability if d not in LMDB_DURABILITY]
    if unknown:
        parser.error(f"unknown durability {', '.join(unknown)}; use {', '.join(LMDB_DURABILITY)}")
    args.growth_sizes = [int(n) for n in args.growth_sizes.split(",") if n.strip()]
    return finish_common_arguments(args)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"# engine vs raw LMDB: {versions()};"
        f" 100-byte values; {args.seconds:g} s per measurement;"
        f" {machine()}"
    )
    with scratch_dir(args.dir) as scratch:
        for n, durability in enumerate(args.durability):
            pair = stores(scratch, f"{durability}-{args.store_size}", durability)
            print(f"## durability={durability} ({pair[1].label}), {args.store_size:,} keys")
            for spec in pair:
                preload(spec, args.store_size)
            compare_workloads(args, pair, workloads(args))
            compare_contention(args, pair)
            compare_fairness(args, pair)
            if n == 0 and args.growth_sizes:
                compare_growth(args, scratch, durability)


def stores(scratch: Path, name: str, durability: str) -> tuple[EngineSpec, LmdbSpec]:
    """An engine store and a raw LMDB store with the sync flags that engine setting uses."""
    engine = EngineSpec(f"embedded://{scratch / f'engine-{name}'}?durability={durability}")
    return engine, LmdbSpec.for_durability(str(scratch / f"raw-{name}"), durability)


def workloads(args: argparse.Namespace) -> list[Workload]:
    return standard_workloads(args.store_size, args.gets_per_txn, args.range_len, args.batch)


# --- single-process work ----------------------------------------------------------------------


def compare_workloads(
    args: argparse.Namespace, pair: tuple[EngineSpec, LmdbSpec], work: list[Workload]
) -> None:
    """Race each workload on raw LMDB and on the engine, on stores with the same keys."""
    engine_kv, raw_kv = pair[0].open(), pair[1].open()
    try:
        for workload in work:
            raw, engine = race(
                args.seconds, args.rounds, [workload.make(raw_kv), workload.make(engine_kv)]
            )
            print(cost_line(workload.name, engine, raw), flush=True)
    finally:
        engine_kv.close()
        raw_kv.close()


def cost_line(what: str, engine: Rate, raw: Rate) -> str:
    """Rates, engine/raw, and the cost ratio raw/engine checked against the requirement."""
    cost = ratio_of(raw, engine)
    verdict = ""
    if what in BOUNDED:
        verdict = "  (<= 2x: ok)" if cost <= MAX_COST else "  (<= 2x: NOT MET)"
    return compare_line(what, "engine", engine, "raw lmdb", raw, "engine/raw") + (
        f"   cost raw/engine {cost:5.2f}x{verdict}"
    )


# --- several processes ------------------------------------------------------------------------


def compare_contention(args: argparse.Namespace, pair: tuple[EngineSpec, LmdbSpec]) -> None:
    """Two processes doing read-modify-write commits, on keys of their own or on shared ones."""
    processes = 2
    disjoint = [[b"own/%d/%d" % (p, i) for i in range(args.hot_keys)] for p in range(processes)]
    shared = [[b"hot/%d" % i for i in range(args.hot_keys)]]
    for label, key_sets in (("disjoint keys", disjoint), (f"{args.hot_keys} shared keys", shared)):
        results = {
            spec.label: fan_out(contention_worker, processes, spec, args.seconds, key_sets)
            for spec in pair
        }
        print(contention_line(f"2 procs read-modify-write, {label}", results), flush=True)


def contention_line(what: str, results: dict[str, list[Contention]]) -> str:
    parts = []
    for label, runs in results.items():
        commits_ = sum(r.commits for r in runs)
        attempts = sum(r.attempts for r in runs)
        seconds = max(r.seconds for r in runs)
        conflicts = attempts - commits_
        parts.append(
            f"{label:>9} {commits_ / seconds:9,.0f} commits/s, conflicts {conflicts:,}/{attempts:,}"
            f" attempts ({conflicts / attempts if attempts else 0:6.2%})"
        )
    return f"{what:<44} " + "   ".join(parts)


def compare_fairness(args: argparse.Namespace, pair: tuple[EngineSpec, LmdbSpec]) -> None:
    """Several processes committing flat out: nobody may wait 100 ms or more for a commit."""
    for spec in pair:
        results = fan_out(fairness_worker, args.processes, spec, args.fair_seconds)
        worst = max(r.worst_ms for r in results)
        verdict = "ok" if worst < MAX_WAIT_MS else "NOT MET"
        label = f"fairness {spec.label}, {args.processes} procs"
        print(f"{fairness_summary(label, results)}  (< {MAX_WAIT_MS:.0f} ms: {verdict})")
        for stats in results:
            print(wait_line(stats))
        sys.stdout.flush()


# --- store size -------------------------------------------------------------------------------


def compare_growth(args: argparse.Namespace, scratch: Path, durability: str) -> None:
    """How point-get and commit cost change from the smallest to the largest store size.

    All four stores (engine and raw, small and large) are open at once and raced in the same
    rounds, so that the growth figure is not a comparison of two moments of machine noise.
    """
    small, large = min(args.growth_sizes), max(args.growth_sizes)
    kvs: dict[tuple[str, int], KV] = {}
    try:
        for size in (small, large):
            for spec in stores(scratch, f"growth-{durability}-{size}", durability):
                preload(spec, size)
                kvs[(spec.label, size)] = spec.open()
        for workload_at in (point_gets, single_commits):
            rates = race(
                args.seconds,
                args.rounds,
                [workload_at(size).make(kv) for (_, size), kv in kvs.items()],
            )
            by_store = dict(zip(kvs, rates, strict=True))
            labels = dict.fromkeys(label for label, _ in kvs)
            parts = [growth_part(lb, by_store[(lb, small)], by_store[(lb, large)]) for lb in labels]
            what = f"growth {workload_at(small).name}, {small:,} -> {large:,} keys:"
            print(f"{what:<52} " + "   ".join(parts), flush=True)
    finally:
        for kv in kvs.values():
            kv.close()


def single_commits(store_size: int) -> Workload:
    return commits(store_size, 1)


def growth_part(label: str, small: Rate, large: Rate) -> str:
    return (
        f"{label} {small.micros_per_op:7.1f} us -> {large.micros_per_op:7.1f} us"
        f" (x{large.micros_per_op / small.micros_per_op:4.2f})"
    )


if __name__ == "__main__":
    main()
    print(f"# done; {machine()}")
