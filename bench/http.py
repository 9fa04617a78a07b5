"""Fairway's "subscribe a student" endpoint over real HTTP, against the same API written with
the Django ORM on PostgreSQL and on SQLite, in the same run.

Every variant serves ``POST /api/courses/<course_id>/subscriptions`` (``{"student_id"}``, DRF
token auth) under gunicorn with 2 workers, on a fresh store or database holding the same
courses and students (``bench._http_world``):

- ``fairway full`` and ``fairway normal``: the example project's slice on the embedded engine
  at ``durability=full`` (a sync per commit) and at the default ``normal``; Django's own tables
  (the user and its token) in SQLite, as the example project keeps them;
- ``orm postgresql`` and ``orm sqlite``: ``bench/orm_courses``, a DRF view enforcing the same
  rules in ``transaction.atomic()`` with ``select_for_update()``; PostgreSQL runs from Debian's
  package in the scratch directory, on a free port, and is stopped at the end.

Each variant is driven by concurrent clients (processes of threads, keep-alive connections)
for a fixed time, then by a single client; the figures are requests/s, p50 and p99 latency and
the answers by status and rejection code. After each variant the rules (capacity, at most 5
courses per student, never twice) are checked on what the store or the database holds. Then
each side's layers are timed in-process, so the slowest one shows: an engine transaction, an
event store append with a condition, ``run_command`` of the subscribe command, and the DRF
view through ``APIClient``.

Run:  python bench/http.py [--quick] [--worker-class sync,gthread] [--variants ...]
Needs: .venv/bin/pip install -r bench/requirements.txt; PostgreSQL: apt-get install -y postgresql
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, bench/ would come first on the path and this file would shadow the
    # standard library's http package: the repository root takes bench/'s place.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import dataclasses
import json
import os
import platform
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from bench import _http_postgres as postgres
from bench._http_load import Load, Outcome, drive
from bench._http_server import THREADS, WORKERS, connections_per_worker, free_port, gunicorn
from bench._http_world import World
from bench._timing import REPO_ROOT, exit_on_sigterm, machine, scratch_dir

VARIANTS = ("fairway-full", "fairway-normal", "orm-postgresql", "orm-sqlite")
PEER = "orm-postgresql"
SINGLE_CLIENT_P50_MS = 3.0
SECRET_KEY = "bench-http-not-a-secret"
#: bench._http_fairway_urls's DRF view that does nothing: what Django and DRF cost alone.
NOTHING = "/bench/nothing/{}"


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str  # one of VARIANTS

    @property
    def side(self) -> str:
        return self.name.split("-")[0]

    @property
    def kind(self) -> str:
        return self.name.split("-")[1]

    @property
    def label(self) -> str:
        return self.name.replace("-", " ")

    @property
    def app(self) -> str:
        """The WSGI application gunicorn serves."""
        if self.side == "fairway":
            return "project.wsgi:application"
        return "bench.orm_courses.wsgi:application"


@dataclasses.dataclass
class Result:
    concurrent: Outcome
    single: Outcome
    subscriptions: int
    violations: list[str]
    load: str
    #: Fairway's site only: a single client on a DRF view that does nothing, same server.
    floor: Outcome | None = None
    #: gthread only: the concurrent clients' keep-alive connections held by each worker.
    spread: list[int] | None = None

    @property
    def one_worker(self) -> bool:
        """All the connections on one worker: the run measured half the server."""
        return self.spread is not None and len([n for n in self.spread if n]) == 1


class Bench:
    """One run: the scratch directory, the PostgreSQL server if needed, and what was measured."""

    def __init__(self, args: argparse.Namespace, scratch: Path, pg_url: str | None) -> None:
        self.args = args
        self.scratch = scratch
        self.pg_url = pg_url
        self.world: World = args.world
        self.databases = 0

    # --- environments ---------------------------------------------------------------------

    def environment(self, variant: Variant, directory: Path) -> dict[str, str]:
        directory.mkdir(parents=True, exist_ok=True)
        env = {"DJANGO_SECRET_KEY": SECRET_KEY, "DJANGO_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
        if variant.side == "fairway":
            store = f"embedded://{directory / 'store'}"
            return {
                **env,
                "DJANGO_SETTINGS_MODULE": "bench._http_fairway_site",
                "DATABASE_URL": f"sqlite:///{directory / 'django.sqlite3'}",
                "FAIRWAY_STORE_URL": store
                if variant.kind == "normal"
                else f"{store}?durability=full",
                "BENCH_SEED_STORE_URL": store,  # seeding need not wait for syncs
            }
        if variant.kind == "postgresql":
            assert self.pg_url is not None
            self.databases += 1
            url = postgres.create_database(self.pg_url, f"bench_{self.databases}")
        else:
            url = f"sqlite:///{directory / 'orm.sqlite3'}"
        return {**env, "DJANGO_SETTINGS_MODULE": "bench.orm_courses.settings", "DATABASE_URL": url}

    def child(self, step: str, variant: Variant, env: dict[str, str], *extra: str) -> Any:
        """Run a step of ``bench._http_child`` with the variant's settings; its JSON result."""
        world = json.dumps(dataclasses.asdict(self.world))
        command = [
            sys.executable,
            "-m",
            "bench._http_child",
            step,
            variant.side,
            "--world",
            world,
            *extra,
        ]
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{step} for {variant.label} failed (exit {done.returncode})")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # --- the HTTP runs ----------------------------------------------------------------------

    def run(self, variant: Variant, worker_class: str) -> Result:
        directory = self.scratch / f"{variant.name}-{worker_class}"
        env = self.environment(variant, directory)
        token = self.child("prepare", variant, env)["token"]
        args = self.args
        with gunicorn(variant.app, env, worker_class, directory / "gunicorn.log") as server:
            clients = Load(
                server.port,
                token,
                self.world,
                args.processes,
                args.threads,
                args.warmup,
                args.seconds,
            )
            spread: list[list[int] | None] = []
            # Keep-alive connections stay where they were accepted: look once the warm-up is over.
            look = threading.Timer(
                args.warmup + 1.0, lambda: spread.append(connections_per_worker(server))
            )
            if worker_class == "gthread":
                look.start()
            concurrent = drive(clients)
            if look.ident is not None:  # started: stop it, or let a look under way finish
                look.cancel()
                look.join()
            alone = dataclasses.replace(
                clients, processes=1, threads=1, seconds=args.single_seconds, seed=2
            )
            single = drive(alone)
            floor = None
            if variant.side == "fairway":
                floor = drive(dataclasses.replace(alone, path=NOTHING, seed=3))
        checked = self.child("check", variant, env)
        subscriptions, violations = checked["subscriptions"], checked["violations"]
        accepted = concurrent.answers["201"] + single.answers["201"]
        if subscriptions < accepted:  # warm-up requests are not counted: there can be more
            violations.append(
                f"the clients counted {accepted:,} subscriptions answered 201, the store holds"
                f" {subscriptions:,}: accepted writes are missing"
            )
        shown = spread[0] if spread else None
        return Result(concurrent, single, subscriptions, violations, _load(), floor, shown)

    def layers(self, variant: Variant) -> list[tuple[str, float, str]]:
        directory = self.scratch / f"{variant.name}-layers"
        env = self.environment(variant, directory)
        extra = ["--scratch", str(directory), "--durability", variant.kind]
        extra += ["--seconds", str(self.args.layer_seconds), "--rounds", str(self.args.rounds)]
        return [tuple(x) for x in self.child("layers", variant, env, *extra)["layers"]]


# --- printing ---------------------------------------------------------------------------------


def print_result(variant: Variant, result: Result, warmup: float) -> None:
    c, s = result.concurrent, result.single
    print(
        f"{variant.label:<15} concurrent {c.per_second:8,.0f} req/s  p50 {c.p(0.5):7.2f} ms"
        f"  p99 {c.p(0.99):7.2f} ms   single client p50 {s.p(0.5):6.2f} ms"
        f"  p99 {s.p(0.99):6.2f} ms ({s.per_second:,.0f} req/s)   load {result.load}",
        flush=True,
    )
    print(f"{'':<15} answers {answers(c)}; single client: {answers(s)}")
    if result.spread is not None:
        note = " (all on one worker: this run measured one worker)" if result.one_worker else ""
        shown = ", ".join(map(str, result.spread))
        print(f"{'':<15} keep-alive connections held by each worker: {shown}{note}")
    print(
        f"{'':<15} CPU the clients used: {c.client_cpu:.1f} s in {c.seconds + warmup:g} s;"
        f" single client {s.client_cpu:.1f} s in {s.seconds + warmup:g} s"
    )
    if result.floor is not None:
        f = result.floor
        print(
            f"{'':<15} same server, a DRF view doing nothing (token auth, JSON in and out):"
            f" single client p50 {f.p(0.5):.2f} ms  p99 {f.p(0.99):.2f} ms ({answers(f)})"
        )
    rules = "ok" if not result.violations else f"{len(result.violations)} BROKEN"
    print(f"{'':<15} rules after the run: {result.subscriptions:,} subscriptions, {rules}")
    for broken in result.violations[:20]:
        print(f"{'':<15}   BROKEN: {broken}")


def answers(outcome: Outcome) -> str:
    shown = ", ".join(f"{k} {v:,}" for k, v in sorted(outcome.answers.items()))
    return shown + (f", connection errors {outcome.errors:,}" if outcome.errors else "")


def print_summary(results: dict[tuple[str, str], Result], worker_classes: Sequence[str]) -> None:
    print("## summary")
    for worker_class in worker_classes:
        peer = results.get((PEER, worker_class))
        for name in ("fairway-full", "fairway-normal"):
            ours = results.get((name, worker_class))
            if ours is None or peer is None:
                continue
            ratio = ours.concurrent.per_second / peer.concurrent.per_second
            print(
                f"{worker_class:<8} {name.replace('-', ' ')} : orm postgresql, concurrent req/s"
                f"  {ours.concurrent.per_second:,.0f} : {peer.concurrent.per_second:,.0f}"
                f" = {ratio:.2f}  ({'>= 1: ok' if ratio >= 1 else '< 1: BELOW the peer'})"
                + "".join(
                    f"; {side} had all connections on one worker"
                    for side, run in (("ours", ours), ("the peer", peer))
                    if run.one_worker
                )
            )
    for (name, worker_class), result in results.items():
        if name.startswith("fairway"):
            p50 = result.single.p(0.5)
            verdict = "ok" if p50 <= SINGLE_CLIENT_P50_MS else "NOT MET"
            print(
                f"{worker_class:<8} {name.replace('-', ' ')}: single-client p50 {p50:.2f} ms"
                f" (<= {SINGLE_CLIENT_P50_MS:g} ms: {verdict})"
            )
    broken = sum(len(r.violations) for r in results.values())
    print(f"rules: {'every variant kept them' if not broken else f'{broken} BROKEN (see above)'}")


# --- setup ------------------------------------------------------------------------------------


def versions(pg_bin: Path | None) -> str:
    import django
    import gunicorn as gunicorn_package  # type: ignore[import-untyped]
    import rest_framework

    pg = postgres.version(pg_bin) if pg_bin else "PostgreSQL not installed"
    return (
        f"python {platform.python_version()}, Django {django.__version__}, DRF"
        f" {rest_framework.__version__}, gunicorn {gunicorn_package.__version__}, {pg},"
        f" SQLite {sqlite3.sqlite_version}"
    )


def fsync_ms(directory: Path, samples: int = 50) -> float:
    """The median time of a 4 KB write and fdatasync in ``directory``: what a durable commit waits
    for on this disk (it varies between machines by more than a factor of ten)."""
    waits = []
    probe = directory / "fsync-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(samples):
            os.pwrite(fd, b"x" * 4096, 0)
            begin = time.perf_counter()
            os.fdatasync(fd)
            waits.append(time.perf_counter() - begin)
    finally:
        os.close(fd)
        probe.unlink()
    return sorted(waits)[samples // 2] * 1e3


def python_speed(runs: int = 5) -> float:
    """Milliseconds for a pure-Python loop of a million additions (best of ``runs``): how fast
    a core runs Python here and now, for comparing these figures with another machine's."""
    best = float("inf")
    for _ in range(runs):
        begin = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - begin)
    return best * 1e3


def _load() -> str:
    return machine().split("load average ")[1]


@contextmanager
def postgres_if_needed(variants: Sequence[Variant], scratch: Path) -> Iterator[str | None]:
    if not any(v.kind == "postgresql" for v in variants):
        yield None
        return
    bin_dir = postgres.binaries()
    if bin_dir is None:
        yield None
        return
    with postgres.server(bin_dir, scratch / "postgresql", free_port()) as url:
        yield url


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=", ".join(VARIANTS))
    parser.add_argument(
        "--worker-class", default="sync,gthread", help="gunicorn worker classes to run each with"
    )
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="client threads per process")
    parser.add_argument("--seconds", type=float, default=None, help="concurrent clients, each run")
    parser.add_argument("--single-seconds", type=float, default=None, help="the single client")
    parser.add_argument("--warmup", type=float, default=None, help="uncounted seconds first")
    parser.add_argument("--layer-seconds", type=float, default=None, help="per in-process layer")
    parser.add_argument(
        "--rounds", type=int, default=4, help="interleaved layer rounds (best kept)"
    )
    parser.add_argument("--dir", default=None, help="parent of the scratch directory")
    args = parser.parse_args(argv)
    quick = args.quick
    for name, full, short in (
        ("seconds", 12.0, 3.0),
        ("single_seconds", 6.0, 2.0),
        ("warmup", 1.5, 1.0),
        ("layer_seconds", 2.0, 0.4),
    ):
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    if quick:
        args.rounds = min(args.rounds, 2)
    args.world = World(courses=200, students=2_000) if quick else World()
    args.variants = [Variant(v.strip()) for v in args.variants.split(",") if v.strip()]
    if unknown := [v.name for v in args.variants if v.name not in VARIANTS]:
        parser.error(f"unknown variant {', '.join(unknown)}; use {', '.join(VARIANTS)}")
    args.worker_classes = [w.strip() for w in args.worker_class.split(",") if w.strip()]
    if unknown := [w for w in args.worker_classes if w not in ("sync", "gthread")]:
        parser.error(f"unknown worker class {', '.join(unknown)}; use sync or gthread")
    return args



def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started = time.perf_counter()
    pg_bin = postgres.binaries()
    print(f"# HTTP: subscribe a student; {versions(pg_bin)}; {machine()}")
    print(f"# {args.world.describe()}; each request subscribes a random student to a random course")
    print(
        f"# gunicorn {WORKERS} workers on 127.0.0.1; concurrent: {args.processes} client processes x"
        f" {args.threads} threads = {args.processes * args.threads} keep-alive connections"
        f" (http.client) for {args.seconds:g} s after {args.warmup:g} s warm-up; single client"
        f" for {args.single_seconds:g} s; clients and servers share the machine's cores"
    )
    variants = args.variants
    if pg_bin is None and any(v.kind == "postgresql" for v in variants):
        print(f"# NOTE: PostgreSQL not found under /usr/lib/postgresql; {postgres.INSTALL_HINT}")
        variants = [v for v in variants if v.kind != "postgresql"]
    results: dict[tuple[str, str], Result] = {}
    with ExitStack() as stack:
        scratch = stack.enter_context(scratch_dir(args.dir))
        print(
            f"# this disk: a 4 KB write + fdatasync takes {fsync_ms(scratch):.2f} ms (median);"
            f" this CPU: a Python loop of 1,000,000 additions takes {python_speed():.0f} ms"
        )
        pg_url = stack.enter_context(postgres_if_needed(variants, scratch))
        bench = Bench(args, scratch, pg_url)
        for worker_class in args.worker_classes:
            threads = f", {THREADS} threads each" if worker_class == "gthread" else ""
            print(f"## gunicorn: {WORKERS} {worker_class} workers{threads}", flush=True)
            for variant in variants:
                result = bench.run(variant, worker_class)
                results[(variant.name, worker_class)] = result
                print_result(variant, result, args.warmup)
        print(
            f"## one subscribe at each layer, in-process (best of {args.rounds} interleaved"
            f" rounds of {args.layer_seconds / args.rounds:g} s; a fresh store per variant)",
            flush=True,
        )
        for variant in variants:
            for name, micros, note in bench.layers(variant):
                print(f"{variant.label:<15} {name:<40} {micros:9.1f} us   {note}", flush=True)
        print_summary(results, args.worker_classes)
    print(f"# done in {time.perf_counter() - started:,.0f} s; {machine()}")


if __name__ == "__main__":
    main()
