"""P: decisions from several processes on entities of their own, the way gunicorn runs Django.

Threads share one interpreter and its lock; a web server runs several worker processes
instead, each with its own handle on the store. The parent loads the decision history (as C
does), then starts the processes, which open the store, warm up, say they are ready and wait;
the clock runs from the moment all of them are told to go until the last one is done. Process
i decides on entities i, i + n, i + 2n, ... of the loaded ones: a failed condition would be a
false conflict, so each is counted, printed and retried. Ours only: UmaDB's figure to set
beside it is C2's, its client with 8 threads.

    python -m bench._dcb_processes child DIR --index I --processes N --decisions K
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench._dcb_report import Figure, rate_figure
from bench._dcb_workloads import Sizes, decide, load, warm_up
from bench._timing import REPO_ROOT, Rate

#: The process counts measured.
PROCESSES = (2, 4)
DURABILITY = "full"


def process_decisions(directory: Path, sizes: Sizes) -> Iterator[Figure]:
    """P2, P4: the history loaded once, then each count of processes on it in turn."""
    from bench._dcb_ours import ours_store

    with ours_store(directory, DURABILITY) as client:
        for _ in load(client, sizes.history, sizes):
            pass
        warm_up(client)
    for processes in PROCESSES:
        yield run(directory, processes, sizes)


def run(directory: Path, processes: int, sizes: Sizes) -> Figure:
    per_process = sizes.process_decisions // processes
    children = [
        subprocess.Popen(
            [
                sys.executable, "-m", "bench._dcb_processes", "child", str(directory),
                "--index", str(i), "--processes", str(processes),
                "--decisions", str(per_process), "--entities", str(sizes.entities),
            ],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a decision process did not start")
        for child in children:  # go: each one starts the moment it reads this
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [json.loads(child.communicate(timeout=300)[0]) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    conflicts = sum(r["conflicts"] for r in results)
    check = "ok" if conflicts == 0 else "NOT MET: must be 0"
    note = f"AppendConditionFailed {conflicts:,} ({check}); durability {DURABILITY}"
    return rate_figure(f"P{processes}", Rate(per_process * processes, seconds), "decision", note)


def child(directory: Path, index: int, processes: int, decisions: int, entities: int) -> None:
    from bench._dcb_api import entity_tag, tenant_tag
    from bench._dcb_ours import ours_store

    with ours_store(directory, DURABILITY) as client:
        decide(client, entity_tag(f"warm-up-{index}"), tenant_tag(0))
        mine = list(range(index, entities, processes))
        print("ready", flush=True)
        sys.stdin.readline()
        conflicts = 0
        start = time.time()  # wall clock: compared across the processes
        for k in range(decisions):
            entity = mine[k % len(mine)]
            while True:
                try:
                    decide(client, entity_tag(entity), tenant_tag(entity))
                    break
                except client.conflict:
                    conflicts += 1
        end = time.time()
    print(json.dumps({"start": start, "end": end, "conflicts": conflicts}), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("child",))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--decisions", type=int, required=True)
    parser.add_argument("--entities", type=int, default=1_000)
    args: Any = parser.parse_args(argv)
    child(args.dir, args.index, args.processes, args.decisions, args.entities)


if __name__ == "__main__":
    main()
