"""The memory part of the DCB benchmark, run as child processes of ``bench/dcb.py``.

``load`` fills a store of ours; ``stream`` then reads every event back in a fresh process,
so that its peak memory is the stream's and not the load's or the parent's (which holds the
other workloads' leftovers and maybe the UmaDB client). With ``--growth``, ``stream`` goes on
to time reads, decisions and appends on that big store (``bench._dcb_growth``), only once the
stream's figures have been taken. Each prints one JSON line.

    python -m bench._dcb_memory load DIR --events 1000000 --batch 1000
    python -m bench._dcb_memory stream DIR [--growth --reads 300 --limit 100 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from bench._dcb_ours import OursClient

#: How often the sampler looks at the process's anonymous memory.
SAMPLE_SECONDS = 0.01
#: The store is loaded and read at our default durability (quicker to load; the same data).
DURABILITY = "normal"


def status_kb(field: str) -> int:
    """One ``kB`` field of /proc/self/status (VmHWM, VmRSS, RssAnon, RssFile, ...)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class AnonSampler:
    """Samples RssAnon in a thread: the kernel keeps a peak for total RSS (VmHWM) only.

    VmHWM counts the pages of LMDB's memory-mapped file that the stream touched, which the
    kernel can drop at any time; anonymous memory is what the process itself holds on to.
    """

    def __init__(self) -> None:
        self.peak_kb = status_kb("RssAnon")
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-anon-sampler", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the value at the end counts too

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def _sample(self) -> None:
        self.peak_kb = max(self.peak_kb, status_kb("RssAnon"))
        self.samples += 1


def load(directory: Path, events: int, batch: int, entities: int) -> dict[str, object]:
    """Append ``events`` events in batches."""
    from bench._dcb_api import make_events
    from bench._dcb_ours import ours_store

    start = time.perf_counter()
    with ours_store(directory, DURABILITY) as client:
        for first in range(0, events, batch):
            client.append(make_events(client, first, min(first + batch, events), entities))
    seconds = time.perf_counter() - start
    return {"events": events, "seconds": seconds, "bytes_on_disk": disk_usage(directory)}


def stream(client: OursClient) -> dict[str, Any]:
    """Read every event of the just opened store with ``for e in store.read(): count += 1``."""
    store = client.store
    before = {f: status_kb(f) for f in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}
    count = 0
    start = time.perf_counter()
    with AnonSampler() as sampler:
        for _ in store.read():
            count += 1
    seconds = time.perf_counter() - start
    return {
        "events": count,
        "seconds": seconds,
        "before_kb": before,
        "vmhwm_kb": status_kb("VmHWM"),
        "end_rss_file_kb": status_kb("RssFile"),
        "peak_anon_kb": sampler.peak_kb,
        "end_anon_kb": status_kb("RssAnon"),
        "samples": sampler.samples,
    }


def stream_then_growth(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``stream``, then with ``--growth`` the growth figures under ``"growth"``; if those fail,
    the traceback goes to stderr and the stream's figures still come back."""
    from bench._dcb_ours import ours_store

    with ours_store(directory, DURABILITY) as client:
        result = stream(client)
        if args.growth:
            try:
                from bench._dcb_growth import measure

                result["growth"] = measure(
                    client,
                    result["events"],
                    args.entities,
                    args.reads,
                    args.limit,
                    args.decisions,
                    args.appends,
                )
            except Exception as error:  # noqa: BLE001 - reported by the parent; M's figures stand
                import traceback  # only now: nothing extra is loaded while the stream is measured

                traceback.print_exc()
                result["growth_error"] = repr(error)
        return result


def disk_usage(directory: Path) -> int:
    """Bytes the store's files occupy (allocated blocks, not their sparse sizes)."""
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("load", "stream"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--entities", type=int, default=1_000)
    parser.add_argument("--growth", action="store_true", help="stream: then the growth figures")
    parser.add_argument("--reads", type=int, default=300, help="growth: entity reads")
    parser.add_argument("--limit", type=int, default=100, help="growth: the limited reads' limit")
    parser.add_argument("--decisions", type=int, default=300, help="growth: decisions")
    parser.add_argument("--appends", type=int, default=500, help="growth: single-event appends")
    args = parser.parse_args(argv)
    result: dict[str, Any]
    if args.step == "load":
        result = load(args.dir, args.events, args.batch, args.entities)
    else:
        result = stream_then_growth(args.dir, args)
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
