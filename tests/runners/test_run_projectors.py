"""``manage.py run_projectors`` as real processes: killed mid-batch, two on one projection,
stopped gracefully and at once, a rebuild while events arrive, read-your-writes over HTTP."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

from fairway_django.dcb import DcbStore
from fairway_django.framework.codec import encode
from fairway_django.framework.generations import Generations
from fairway_django.framework.keyspace import keyspace_of
from fairway_django.framework.leases import read_holder
from fairway_django.framework.projector import lease_name
from fairway_django.framework.readmodels import ReadModel
from .process import ManagePy, run, runner_env, wait_until
from .slices import Counted, Tally

KEYS = [f"k{i:02}" for i in range(40)]


def append_counts(store: DcbStore, count: int, rng: random.Random) -> list[Counted]:
    events = [Counted(key=rng.choice(KEYS), amount=rng.randrange(1, 100)) for _ in range(count)]
    for start in range(0, count, 500):
        store.append([encode(event) for event in events[start:start + 500]])
    return events


def replayed(events: list[Counted]) -> dict[str, dict[str, Any]]:
    """The read model a full replay gives, worked out without the projector."""
    tallies: dict[str, dict[str, Any]] = {}
    for event in events:
        tally = tallies.setdefault(event.key, {"total": 0, "count": 0})
        tally["total"] += event.amount
        tally["count"] += 1
        tally["parity"] = "even" if tally["total"] % 2 == 0 else "odd"
    return tallies


def documents(store: DcbStore) -> dict[str, dict[str, Any]]:
    return dict(ReadModel(Tally, store).page(limit=1000).documents)


def checkpoint(store: DcbStore) -> Any:
    generations = Generations(store, "tally")
    return store.database.transact(lambda tr: generations.checkpoint(tr, 1))


def holder(store: DcbStore) -> str | None:
    key = keyspace_of(store).lease(lease_name("tally", 1))
    found = store.database.transact(lambda tr: read_holder(tr, key))
    return None if found is None else found.owner


def applied_count(store: DcbStore) -> int:
    return sum(tally["count"] for tally in documents(store).values())


def events_up_to_checkpoint(store: DcbStore) -> int:
    position = checkpoint(store)
    return sum(1 for e in store.read() if position is not None and e.position <= position)


def test_a_runner_killed_mid_batch_and_restarted_ends_with_the_full_replay(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    events = append_counts(store, 2000, random.Random(1))
    slow = ManagePy({**env, "RUNNERS_HANDLER_DELAY": "0.001"}, tmp_path / "a.log",
                    "run_projectors", "tally")
    try:
        wait_until(lambda: checkpoint(store) is not None, what="a first batch")
        time.sleep(random.Random(2).uniform(0.02, 0.08))  # somewhere inside a later batch
        slow.signal(signal.SIGKILL)
        slow.wait()
    finally:
        slow.stop()
    assert checkpoint(store) < store.head(), "the runner finished before it was killed"
    assert applied_count(store) == events_up_to_checkpoint(store)  # nothing half-applied
    again = ManagePy(env, tmp_path / "b.log", "run_projectors", "tally")
    try:
        # The dead runner's lease expires, then the new one takes over and catches up.
        wait_until(lambda: checkpoint(store) == store.head(), what="the restarted runner")
    finally:
        again.signal(signal.SIGTERM)
        assert again.wait() == 0, again.output()
    expected = replayed(events)
    found = documents(store)
    assert sorted(found) == sorted(expected)
    for key in expected:
        assert found[key] == expected[key], key


def test_two_runners_share_a_projection_one_at_a_time(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    rng = random.Random(3)
    events = append_counts(store, 300, rng)
    first = ManagePy(env, tmp_path / "first.log", "run_projectors", "tally")
    second = None
    try:
        wait_until(lambda: holder(store) is not None and f":{first.pid}:" in holder(store),
                   what="the first runner's lease")
        second = ManagePy(env, tmp_path / "second.log", "run_projectors", "tally")
        wait_until(lambda: "tally@1: another runner holds it; standing by" in second.output(),
                   what="the second runner to stand by")
        events += append_counts(store, 300, rng)
        wait_until(lambda: checkpoint(store) == store.head(), what="the first runner")
        assert f":{first.pid}:" in str(holder(store))
        assert "lease taken" not in second.output()
        first.signal(signal.SIGKILL)
        first.wait()
        killed = time.monotonic()
        events += append_counts(store, 300, rng)
        wait_until(lambda: checkpoint(store) == store.head(), timeout=30, what="a takeover")
        takeover = time.monotonic() - killed
        assert f":{second.pid}:" in str(holder(store))
        assert "lease taken" in second.output()
        assert takeover < 10, takeover
    finally:
        first.stop()
        if second is not None:
            second.signal(signal.SIGTERM)
            second.wait()
    assert documents(store) == replayed(events)


def test_the_first_signal_finishes_the_batch_and_releases_the_lease(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    append_counts(store, 1000, random.Random(4))
    runner = ManagePy({**env, "RUNNERS_HANDLER_DELAY": "0.003"}, tmp_path / "r.log",
                      "run_projectors", "tally")
    try:
        wait_until(lambda: checkpoint(store) is not None, what="a first batch")
        runner.signal(signal.SIGTERM)
        started = time.monotonic()
        assert runner.wait(timeout=30) == 0, runner.output()
    finally:
        runner.stop()
    assert time.monotonic() - started < 5  # one batch of 100 at 3 ms each, not the rest
    assert "finishing the current step" in runner.output()
    assert checkpoint(store) < store.head()
    assert applied_count(store) == events_up_to_checkpoint(store)
    assert holder(store) is None  # released: the next runner need not wait for it to expire


def test_a_second_signal_exits_at_once(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    append_counts(store, 1000, random.Random(5))
    runner = ManagePy({**env, "RUNNERS_HANDLER_DELAY": "0.05"}, tmp_path / "r.log",
                      "run_projectors", "tally")
    try:
        wait_until(lambda: holder(store) is not None, what="the runner's lease")
        runner.signal(signal.SIGINT)
        time.sleep(0.2)
        runner.signal(signal.SIGINT)
        assert runner.wait(timeout=3) == 128 + signal.SIGINT, runner.output()
    finally:
        runner.stop()
    assert "exiting now" in runner.output()
    assert applied_count(store) == events_up_to_checkpoint(store)


def test_once_catches_up_and_exits_with_progress_lines(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    events = append_counts(store, 500, random.Random(6))
    done = run(env, "run_projectors", "tally", "--once")
    assert done.returncode == 0, done.stderr
    assert "catching up, 500 events to go" in done.stderr
    assert "tally@1: caught up" in done.stderr
    assert documents(store) == replayed(events)
    quiet = run(env, "run_projectors", "tally", "--once", "--verbosity", "0")
    assert quiet.returncode == 0 and quiet.stderr == ""
    unknown = run(env, "run_projectors", "nope")
    assert unknown.returncode == 1
    assert "no projection named 'nope'; the projections are: " in unknown.stderr


def test_a_rebuild_while_events_arrive_switches_over_and_serves_reads_throughout(
    env: dict[str, str], store: DcbStore, tmp_path: Path
) -> None:
    rng = random.Random(7)
    events = append_counts(store, 1000, rng)
    runner = ManagePy(env, tmp_path / "r.log", "run_projectors", "tally")
    stop = threading.Event()
    reads: list[int] = []
    lock = threading.Lock()

    def write() -> None:
        while not stop.is_set():
            batch = append_counts(store, 20, rng)
            with lock:
                events.extend(batch)
            time.sleep(0.01)

    def read() -> None:
        while not stop.is_set():
            reads.append(sum(t["count"] for t in documents(store).values()))

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    try:
        wait_until(lambda: checkpoint(store) == store.head(), what="the first generation")
        for thread in threads:
            thread.start()
        rebuilt = run(env, "rebuild_projection", "tally")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "generation 2 (version 1) is building" in rebuilt.stdout
        generations = Generations(store, "tally")
        wait_until(
            lambda: store.database.transact(lambda tr: generations.catalog(tr)).serving().number
            == 2,
            what="the switch to generation 2",
        )
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join()
    try:
        head = store.head()
        assert head is not None
        ReadModel(Tally, store).wait_for(head, timeout=30)
    finally:
        runner.signal(signal.SIGTERM)
        assert runner.wait() == 0, runner.output()
    assert len(reads) > 10 and min(reads) >= 1000  # never an empty or partial new generation
    assert documents(store) == replayed(events)
    status = run(env, "fairway_status")
    assert "tally@1  version 1  retired" in status.stdout
    assert "tally@2  version 1  serving" in status.stdout
    dropped = run(env, "drop_projection", "tally", "--generation", "1")
    assert dropped.returncode == 0 and "dropped generation 1" in dropped.stdout


def test_over_http_a_client_reads_its_own_write_from_a_projection(
    fairway_client: Any, tmp_path: Path, settings: Any
) -> None:
    runner_environment = runner_env(tmp_path, FAIRWAY_STORE_URL=settings.FAIRWAY["STORE_URL"])
    response = fairway_client.get("/api/course-list")
    assert response.status_code == 503
    assert response.json()["code"] == "projection_not_ready"
    runner = ManagePy(runner_environment, tmp_path / "r.log", "run_projectors", "course_list")
    try:
        for i in range(5):
            defined = fairway_client.post(
                "/api/courses", {"course_id": f"c{i}", "title": "Algebra", "capacity": 1},
                format="json",
            )
            assert defined.status_code == 201, defined.json()
            position = defined.json()["position"]
            found = fairway_client.get(f"/api/course-list/c{i}", {"min_position": position})
            assert found.status_code == 200, found.json()
            assert found.json()["free_places"] == 1
            listed = fairway_client.get(
                "/api/course-list", HTTP_FAIRWAY_MIN_POSITION=position
            )
            assert len(listed.json()["results"]) == i + 1
    finally:
        runner.signal(signal.SIGTERM)
        assert runner.wait() == 0, runner.output()
