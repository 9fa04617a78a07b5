"""SQLite versus LMDB as the embedded engine's backing store, measured on the same work.

This is the measurement behind the choice of backing store: both are used raw (no engine on
top), in the way an application would use them, at two durability levels each:

* durable:  SQLite WAL synchronous=FULL   vs  LMDB sync=True, metasync=True
* relaxed:  SQLite WAL synchronous=NORMAL vs  LMDB sync=True, metasync=False

Run:  python bench/backing_stores.py [--seconds 2] [--fair-seconds 10] [--store-size 100000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stores import (
    LmdbSpec,
    Spec,
    SqliteSpec,
    Workload,
    fairness_worker,
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
    scratch_dir,
    versions,
    wait_line,
)

#: (SQLite synchronous, LMDB sync, LMDB metasync): the pairs compared, strictest first.
PAIRS = (("FULL", True, True), ("NORMAL", True, False))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    return finish_common_arguments(args)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_header(args)
    workloads = standard_workloads(args.store_size, args.gets_per_txn, args.range_len, args.batch)
    with scratch_dir(args.dir) as scratch:
        pairs = [
            (
                SqliteSpec(str(scratch / f"{synchronous}.sqlite"), synchronous),
                LmdbSpec(str(scratch / f"lmdb-{synchronous}"), sync, metasync),
            )
            for synchronous, sync, metasync in PAIRS
        ]
        for sqlite_spec, lmdb_spec in pairs:
            compare_pair(args, sqlite_spec, lmdb_spec, workloads)
        for pair in pairs:
            for spec in pair:
                measure_fairness(spec, args.processes, args.fair_seconds)


def print_header(args: argparse.Namespace) -> None:
    print(
        f"# backing stores: {versions()}, SQLite {sqlite3.sqlite_version};"
        f" {args.store_size:,} keys x 100-byte values; {args.seconds:g} s per measurement;"
        f" {machine()}"
    )


def compare_pair(
    args: argparse.Namespace, sqlite_spec: SqliteSpec, lmdb_spec: LmdbSpec, work: list[Workload]
) -> None:
    """Time every workload on both stores, alternating so drift hits both alike."""
    print(f"## {lmdb_spec.label} vs {sqlite_spec.label}")
    for spec in (sqlite_spec, lmdb_spec):
        preload(spec, args.store_size)
    sqlite_kv, lmdb_kv = sqlite_spec.open(), lmdb_spec.open()
    try:
        for workload in work:
            sqlite_rate, lmdb_rate = race(
                args.seconds, args.rounds, [workload.make(sqlite_kv), workload.make(lmdb_kv)]
            )
            print(line(workload.name, lmdb_spec, lmdb_rate, sqlite_spec, sqlite_rate), flush=True)
    finally:
        sqlite_kv.close()
        lmdb_kv.close()


def line(what: str, a_spec: Spec, a: Rate, b_spec: Spec, b: Rate) -> str:
    return compare_line(what, a_spec.label, a, b_spec.label, b, "lmdb/sqlite")


def measure_fairness(spec: Spec, processes: int, seconds: float) -> None:
    """Several processes committing at once: does any of them wait long for its turn?"""
    results = fan_out(fairness_worker, processes, spec, seconds)
    print(fairness_summary(f"fairness {spec.label}, {processes} procs", results))
    for stats in results:
        print(wait_line(stats))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
    print(f"# done; {machine()}")
