"""Automations with real worker processes sharing one store: a worker killed with SIGKILL in the
middle of a job, and workers sharing the queue. See automation_worker.py for the process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.dcb import DcbStore
from fairway_django.framework.jobs import JobQueue

from .automation_worker import (
    JOURNAL, ShortLease, enqueue, journal, positions, request, wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def journal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal"
    monkeypatch.setenv(JOURNAL, str(path))
    return path


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """The worker processes a test starts; any still running at its end are killed."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)


def start_worker(
    started: list[subprocess.Popen[str]], store_url: str, automation: str, log: Path
) -> subprocess.Popen[str]:
    """A worker process for ``automation``, once it runs; its log goes to ``log``."""
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.framework.automation_worker", store_url, automation],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    started.append(process)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_a_killed_workers_job_runs_again_in_another_after_its_lease(
    store: DcbStore, store_url: str, journal_path: Path, tmp_path: Path,
    started: list[subprocess.Popen[str]],
) -> None:
    """ShortLease jobs are leased for 1 s; the first attempt hangs until its worker is killed,
    while the second worker waits for work."""
    first = start_worker(started, store_url, "ShortLease", tmp_path / "first.log")
    request(store, ("a", 0, "hang_first"))
    enqueue(ShortLease, store)
    wait_until(lambda: journal(journal_path), "the first attempt to start")
    second = start_worker(started, store_url, "ShortLease", tmp_path / "second.log")
    queue = JobQueue(store, ShortLease)
    held, = queue.stats().leased
    assert held.owner.split(":")[1] == str(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait(60)
    killed = time.time()
    wait_until(lambda: len(journal(journal_path)) == 3, "the second attempt to end")
    began, again, ended = journal(journal_path)
    assert (began["step"], began["pid"], began["attempt"]) == ("start", first.pid, 1)
    assert (again["step"], again["pid"], again["attempt"]) == ("start", second.pid, 2)
    assert (ended["step"], ended["pid"]) == ("end", second.pid)
    assert began["idempotency_key"] == again["idempotency_key"] == (
        f"short_lease:{positions(store)[0]}"
    )
    assert 0 < again["time"] - killed < 30  # within about a lease, on a machine not too busy
    assert queue.stats().queued == 0
    second.send_signal(signal.SIGTERM)
    assert second.wait(60) == 0


def test_worker_processes_share_the_jobs(
    store: DcbStore, store_url: str, journal_path: Path, tmp_path: Path,
    started: list[subprocess.Popen[str]],
) -> None:
    workers = [start_worker(started, store_url, "ShortLease", tmp_path / f"worker-{n}.log")
               for n in range(2)]
    request(store, *[(f"k{n % 10}", n, "ok", 0.01) for n in range(100)])
    enqueue(ShortLease, store)
    wait_until(lambda: len(journal(journal_path)) == 200, "every job to end")
    ends = [line for line in journal(journal_path) if line["step"] == "end"]
    assert sorted(line["number"] for line in ends) == list(range(100))
    assert {line["pid"] for line in ends} == {worker.pid for worker in workers}
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [worker.wait(60) for worker in workers] == [0, 0]
