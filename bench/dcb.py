"""Our DCB event store against UmaDB, the same workloads in the same run.

Our requirement, at durability=full (fsync per commit, as UmaDB does by default), is at least
2x UmaDB's rate for single-event appends (A) and for sequential read-then-conditionally-append
decisions (C1), at least 4x its speed for reading one entity's events (D), 0.6x its rate for
batched appends (B), and at least its rate for decisions from 8 threads (C2) or 4 processes
(P4, against its 8 threads) on distinct entities and for streaming one event type, with and
without reading every field (D); that streaming all of a million events takes under 150 MB;
and that the store takes at most 1,000 bytes per event on disk (S), at 100,000 and at a
million events. Every figure
is printed for our store at full and at normal durability and for UmaDB, each on a fresh store
in a fresh directory, then their ratios against those targets. The three stores of a workload
are open together and take turns (see ``run_group``), so noise from other work on the machine
is shared out between them rather than landing on one. The million-event store of the memory
part (M) then shows how our costs grow with the store's size (G): D's reads, C1's decisions and
A's appends on it, beside this run's figures on the smaller stores.

Every event has 128 bytes of data, type A/B/C/D cycling by event index i, and the tags
``entity:<i mod 1000>`` and ``tenant:<i mod 10>``. This module runs the contenders and the
memory part's child processes; the workloads are in ``bench._dcb_workloads``, what is printed
and the targets in ``bench._dcb_report``.

Run:  python bench/dcb.py [--quick] [--only A,B,C,P,D,M] [--no-memory] [--no-peer]
UmaDB: .venv/bin/pip install -r bench/requirements.txt
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _dcb_report as report
from bench._dcb_api import DcbClient, StoreSpec
from bench._dcb_api import make_events
from bench._dcb_disk import disk_figure
from bench._dcb_memory import DURABILITY as MEMORY_DURABILITY
from bench._dcb_processes import DURABILITY as PROCESS_DURABILITY
from bench._dcb_processes import process_decisions
from bench._dcb_workloads import QUICK, WORKLOADS, Sizes, Step
from bench._timing import REPO_ROOT, exit_on_sigterm, machine, scratch_dir, versions

GROUPS = ("A", "B", "C", "P", "D", "M")
#: Figures of ours measured without UmaDB, set beside a figure of UmaDB's in the summary.
PEER_STAND_INS = {"P2": "C2", "P4": "C2"}
#: This run's figures that the growth figures (G) are set beside.
GROWTH_BASELINE = ("D-p50", "D-p95", "C1", "A")


# --- M: memory of streaming a million events, and G: growth (ours only, child processes) ------


def memory(
    scratch: Path, sizes: Sizes, results: report.Results, specs: Sequence[StoreSpec]
) -> None:
    """Load a store in one child process, then stream it all in a fresh one and report its peak;
    the same child then times the growth figures on that store (see ``bench._dcb_growth``).
    Its bytes per event on disk are set beside UmaDB's for the same events."""
    directory = scratch / "M-ours"
    loaded = child(
        "load", directory, "--events", str(sizes.memory_events), "--batch", str(sizes.memory_batch)
    )
    report.memory_load(loaded, sizes.memory_batch, MEMORY_DURABILITY)
    label = ours_label(MEMORY_DURABILITY)
    report.record(disk_figure("S-M", directory, sizes.memory_events, label), label, results)
    for spec in specs:
        if spec.label == report.PEER:
            peer_load(spec, scratch / "M-umadb", sizes, results)
    streamed = child(
        "stream",
        directory,
        "--growth",
        *("--reads", str(sizes.entity_reads)),
        *("--limit", str(sizes.loaded // sizes.entities)),  # as many as each of D's reads finds
        *("--decisions", str(sizes.growth_decisions)),
        *("--appends", str(sizes.growth_appends)),
    )
    report.memory_stream(streamed, sizes.memory_events)
    if "growth" in streamed:
        same_kind = ours_label(MEMORY_DURABILITY)
        baseline = {
            key: results[key][same_kind]
            for key in GROWTH_BASELINE
            if same_kind in results.get(key, {})
        }
        report.growth(streamed["growth"], MEMORY_DURABILITY, baseline, sizes)
    else:
        error = streamed.get("growth_error", "no figures")
        print(f"!!! G FAILED ({error}; traceback above); going on without its figures !!!")


def peer_load(spec: StoreSpec, directory: Path, sizes: Sizes, results: report.Results) -> None:
    """M's events into UmaDB, in the same batches, for its bytes per event on disk."""
    start = time.perf_counter()
    with spec.open(directory) as client:
        for first in range(0, sizes.memory_events, sizes.memory_batch):
            last = min(first + sizes.memory_batch, sizes.memory_events)
            client.append(make_events(client, first, last, sizes.entities))
    seconds = time.perf_counter() - start
    print(
        f"M  load {sizes.memory_events:,} events into {spec.label} (batches of"
        f" {sizes.memory_batch:,}): {sizes.memory_events / seconds:,.0f} events/s",
        flush=True,
    )
    figure = disk_figure("S-M", directory, sizes.memory_events, spec.label)
    report.record(figure, spec.label, results)


def processes(scratch: Path, sizes: Sizes, results: report.Results) -> None:
    """P: ours at durability full, decisions from 2 and 4 processes (``bench._dcb_processes``)."""
    label = ours_label(PROCESS_DURABILITY)
    for figure in process_decisions(scratch / "P-ours", sizes):
        report.record(figure, label, results)


def child(step: str, directory: Path, *args: str) -> dict[str, Any]:
    """Run one step of ``bench._dcb_memory`` in a fresh interpreter; its JSON result."""
    command = [sys.executable, "-m", "bench._dcb_memory", step, str(directory), *args]
    done = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory step {step!r} failed with exit code {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the contenders ---------------------------------------------------------------------------


def contenders(args: argparse.Namespace) -> tuple[list[StoreSpec], list[str]]:
    """Our store at each durability asked for, and UmaDB; plus why any of them is missing."""
    specs: list[StoreSpec] = []
    missing: list[str] = []
    try:
        from bench._dcb_ours import ours_store
    except ImportError as error:
        missing.append(f"our store does not import ({error}): running UmaDB only")
    else:
        for durability in args.durability:
            specs.append(StoreSpec(ours_label(durability), _opener(ours_store, durability)))
    if args.no_peer:
        missing.append("UmaDB skipped (--no-peer)")
    else:
        try:
            from bench._dcb_umadb import umadb_store
        except ImportError as error:
            missing.append(
                f"UmaDB is not installed ({error}): running our store only."
                " Install it with: .venv/bin/pip install -r bench/requirements.txt"
            )
        else:
            specs.append(StoreSpec(report.PEER, umadb_store))
    return specs, missing


def ours_label(durability: str) -> str:
    return f"ours {durability}"


def _opener(
    open_store: Callable[[Path, str], AbstractContextManager[DcbClient[Any, Any, Any]]],
    durability: str,
) -> Callable[[Path], AbstractContextManager[DcbClient[Any, Any, Any]]]:
    return lambda directory: open_store(directory, durability)


def peer_version() -> str:
    try:
        from bench._dcb_umadb import version
    except ImportError:
        return "UmaDB not installed"
    return f"UmaDB {version()} (server in a child process, gRPC on 127.0.0.1)"


# --- running ----------------------------------------------------------------------------------


def run_group(
    group: str, specs: Sequence[StoreSpec], sizes: Sizes, scratch: Path, results: report.Results
) -> None:
    """One workload group on every contender at once, each on a fresh store of its own.

    The contenders take turns: each runs until its workload's next pause, then the next one
    does, so a burst of other work on the machine (tests, builds) lands on all of them alike
    instead of on whichever happened to be running. An idle UmaDB server costs no CPU.

    A contender failing is reported and the others go on: their figures are still worth
    having while a store is being worked on. Ctrl-C and SIGTERM still stop everything.
    """
    with ExitStack() as stack:
        runs: list[tuple[str, Iterator[Step]]] = []
        for spec in specs:
            try:
                client = stack.enter_context(spec.open(scratch / f"{group}-{slug(spec.label)}"))
            except Exception:  # noqa: BLE001 - printed in full, then the others run
                failed(f"opening {spec.label} for {group}")
                continue
            runs.append((spec.label, WORKLOADS[group](client, sizes)))
        while runs:
            for run in list(runs):
                label, steps = run
                try:
                    more = take_turn(label, steps, results)
                except Exception:  # noqa: BLE001 - printed in full, then the others run
                    failed(f"{group} on {label}")
                    more = False
                if not more:
                    runs.remove(run)
    if group == "D":  # closed: our checkpoints are done, UmaDB's server stopped
        for spec in specs:
            directory = scratch / f"{group}-{slug(spec.label)}"
            if directory.exists():
                figure = disk_figure("S-D", directory, sizes.loaded, spec.label)
                report.record(figure, spec.label, results)


def take_turn(label: str, steps: Iterator[Step], results: report.Results) -> bool:
    """Run one contender to its next pause, recording its figures; False once it is done."""
    for step in steps:
        if step is None:  # PAUSE
            return True
        report.record(step, label, results)
    return False


def slug(label: str) -> str:
    return label.replace(" ", "-")


def failed(what: str) -> None:
    sys.stdout.flush()
    traceback.print_exc()
    print(f"!!! {what} FAILED (traceback above); going on without its figures !!!", flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help="comma-separated workload groups: A, B, C (C1-C4), P (processes: ours only), D,"
        " M (memory, then growth; bytes per event of a big store)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip M, the 1M-event part")
    parser.add_argument("--no-peer", action="store_true", help="run our store only, not UmaDB")
    parser.add_argument("--durability", default="full,normal", help="ours: full, normal or both")
    parser.add_argument("--memory-events", type=int, default=None, help="events loaded for M")
    parser.add_argument("--dir", default=None, help="parent of the scratch directory")
    args = parser.parse_args(argv)
    args.only = [g.strip().upper() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in args.only if g not in GROUPS]
    if unknown:
        parser.error(f"unknown workload group {', '.join(unknown)}; use {', '.join(GROUPS)}")
    if args.no_memory and "M" in args.only:
        args.only.remove("M")
    args.durability = [d.strip() for d in args.durability.split(",") if d.strip()]
    if not args.durability or any(d not in ("full", "normal") for d in args.durability):
        parser.error("--durability takes full, normal or full,normal")
    sizes = QUICK if args.quick else Sizes()
    if args.memory_events is not None:
        sizes = dataclasses.replace(sizes, memory_events=args.memory_events)
    args.sizes = sizes
    return args



def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started = time.perf_counter()
    specs, missing = contenders(args)
    print(f"# DCB stores: ours vs UmaDB; {versions()}; {peer_version()}; {machine()}")
    print(
        "# 128-byte events, types A-D cycling, tags entity:<i mod 1000> and tenant:<i mod 10>;"
        f" {'QUICK sizes' if args.quick else 'full sizes'}"
    )
    for reason in missing:
        print(f"# NOTE: {reason}")
    results: report.Results = {}
    with scratch_dir(args.dir) as scratch:
        for group in args.only:
            if group in ("M", "P"):
                if any(spec.label != report.PEER for spec in specs):
                    try:
                        if group == "M":
                            memory(scratch, args.sizes, results, specs)
                        else:
                            processes(scratch, args.sizes, results)
                    except Exception:  # noqa: BLE001 - printed in full; the summary follows
                        failed(group)
                else:
                    print(f"{group}  skipped: our store is not running")
            else:
                run_group(group, specs, args.sizes, scratch, results)
    for ours_key, peer_key in PEER_STAND_INS.items():
        if ours_key in results and report.PEER in results.get(peer_key, {}):
            results[ours_key][report.PEER] = results[peer_key][report.PEER]
    report.summary(results, [spec.label for spec in specs])
    print(f"# done in {time.perf_counter() - started:,.0f} s; {machine()}")


if __name__ == "__main__":
    main()
