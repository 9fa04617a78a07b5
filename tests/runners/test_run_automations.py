"""``manage.py run_automations`` and ``dead_letters`` as real processes: a job interrupted by a
signal, a worker killed mid-job whose job runs again, and dead letters replayed."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from fairway_django.dcb import DcbStore, Query, QueryItem
from fairway_django.framework.codec import encode
from fairway_django.framework.jobs import JobQueue
from .process import ManagePy, run, wait_until
from .slices import Counted, Echo


def jobs(store: DcbStore, *keys: str) -> None:
    store.append([encode(Counted(key=key, amount=1)) for key in keys])


def done(store: DcbStore) -> list[str]:
    """The keys whose job appended its Done event, in order."""
    return [
        e.event.tags[0].removeprefix("key:")
        for e in store.read(Query([QueryItem(types=["Done"])]))
    ]


def test_the_first_signal_lets_the_running_job_finish(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    jobs(store, "job1", "job2", "other")
    worker = ManagePy({**env, "RUNNERS_JOB_DELAY": "1.5"}, tmp_path / "w.log",
                      "run_automations", "echo")
    try:
        wait_until(lambda: JobQueue(store, Echo).stats().leased, what="a job to start")
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.output()
    finally:
        worker.stop()
    # It finished the job it was running (workers pick among due jobs), and no other.
    assert done(store) in (["job1"], ["job2"])
    assert JobQueue(store, Echo).stats().queued == 1  # the other waits for the next worker
    assert "finishing the current step" in worker.output()


def test_a_worker_killed_mid_job_leaves_it_to_another_after_its_lease(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    jobs(store, "job1")
    first = ManagePy({**env, "RUNNERS_JOB_DELAY": "30"}, tmp_path / "first.log",
                     "run_automations", "echo")
    try:
        wait_until(lambda: JobQueue(store, Echo).stats().leased, what="a job to start")
        (held,) = JobQueue(store, Echo).stats().leased
        assert f":{first.pid}:" in held.owner
        first.signal(signal.SIGKILL)
        first.wait()
    finally:
        first.stop()
    killed = time.monotonic()
    second = ManagePy(env, tmp_path / "second.log", "run_automations", "echo")
    try:
        wait_until(lambda: done(store) == ["job1"], what="the job to run again")
        waited = time.monotonic() - killed
    finally:
        second.signal(signal.SIGTERM)
        assert second.wait() == 0, second.output()
    assert waited < 15, waited  # the lease is one second; the rest is the process starting
    assert JobQueue(store, Echo).stats().queued == 0


def test_failing_jobs_end_as_dead_letters_that_can_be_replayed_and_discarded(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    jobs(store, "job1", "job2")
    failing = run({**env, "RUNNERS_JOB_FAIL": "1"}, "run_automations", "echo", "--once")
    assert failing.returncode == 0, failing.stderr
    assert "attempt 1 failed: RuntimeError: job job1 failed on purpose" in failing.stderr
    wait_until(lambda: not run({**env, "RUNNERS_JOB_FAIL": "1"}, "run_automations", "echo",
                               "--once").returncode and JobQueue(store, Echo).stats().dead == 2,
               what="both jobs to be dead-lettered")
    listed = run(env, "dead_letters", "list", "echo", "--tracebacks")
    assert "echo: 2 dead letters" in listed.stdout
    assert "2 attempts" in listed.stdout and "raise RuntimeError" in listed.stdout
    (first, second) = JobQueue(store, Echo).dead_letters()
    discarded = run(env, "dead_letters", "discard", "echo", str(second.position))
    assert discarded.returncode == 0 and "discarded the job at" in discarded.stdout
    replayed = run(env, "dead_letters", "replay", "echo", "--all")
    assert "replayed 1 dead letter" in replayed.stdout
    assert run(env, "run_automations", "echo", "--once").returncode == 0
    assert done(store) == ["job1"]
    stats = JobQueue(store, Echo).stats()
    assert (stats.queued, stats.dead) == (0, 0)
    status = run(env, "fairway_status")
    assert "echo  cursor" in status.stdout and "dead letters 0" in status.stdout
    bad = run(env, "dead_letters", "replay", "echo")
    assert bad.returncode == 1 and "either POSITIONs or --all" in bad.stderr
