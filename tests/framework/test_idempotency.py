"""Idempotency keys: a command appends at most once per key, across retries, threads and
processes, and under the engine's fault injection."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairway_django.dcb import DcbStore, InvalidAppend
from fairway_django.framework import (
    CommandResult,
    Reader,
    Rejected,
    Registry,
    UnknownEventType,
    registry,
    run_command,
)

from .model import SeminarDefined, SeminarJoined, Subscribe
from .test_reader import add, course, sub

ROOT = Path(__file__).parents[2]


@pytest.fixture
def registered() -> Iterator[Registry]:
    with registry.temporarily(SeminarDefined, SeminarJoined) as temporary:
        yield temporary


def subscribe(store: DcbStore, student_id: str, key: str | None) -> CommandResult:
    data = {"course_id": "c1", "student_id": student_id}
    return run_command(Subscribe, data, store=store, idempotency_key=key)


def subscribers(store: DcbStore) -> list[str]:
    return [
        e.event.data.decode() for e in store.read() if e.event.type == "SeminarJoined"
    ]


def test_a_used_key_returns_the_first_run_without_deciding_again(
    store: DcbStore, registered: Registry
) -> None:
    add(store, course("c1"))
    first = subscribe(store, "s1", "key-1")
    again = subscribe(store, "s1", "key-1")  # deciding again would be "already_subscribed"
    assert (first.duplicate, again.duplicate, again.attempts) == (False, True, 0)
    assert again.events == first.events
    assert again.position == first.position
    with pytest.raises(Rejected, match="already_subscribed"):
        subscribe(store, "s1", "key-2")
    assert len(subscribers(store)) == 1


def test_a_used_key_needs_the_events_registered_to_replay(store: DcbStore) -> None:
    add(store, course("c1"))
    subscribe(store, "s1", "key-1")
    with pytest.raises(UnknownEventType, match="SeminarJoined"):
        subscribe(store, "s1", "key-1")


def test_a_bad_key_is_refused(store: DcbStore) -> None:
    add(store, course("c1"))
    for key in ["", "k" * 201]:
        with pytest.raises(InvalidAppend, match="1 to 200 bytes"):
            subscribe(store, "s1", key)


def test_concurrent_duplicates_in_threads_append_once(
    store: DcbStore, registered: Registry
) -> None:
    add(store, course("c1", capacity=50))
    results: list[CommandResult] = []
    start = threading.Barrier(8)

    def run() -> None:
        start.wait()
        results.append(subscribe(store, "s1", "same-key"))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 8
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert len({r.position for r in results}) == 1
    assert all(r.events == results[0].events for r in results)
    assert len(subscribers(store)) == 1


def test_concurrent_duplicates_in_processes_append_once(
    store: DcbStore, store_url: str
) -> None:
    add(store, course("c1", capacity=50))
    command = [sys.executable, "-m", "tests.framework.command_worker", store_url, "k", "c1", "s1"]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4
    assert sorted(o["duplicate"] for o in outputs) == [False, True, True, True]
    assert len({o["position"] for o in outputs}) == 1
    assert len(subscribers(store)) == 1


def test_commands_under_faults_append_exactly_once(
    faulty_store: DcbStore, registered: Registry
) -> None:
    """A fifth of the commits fail, some after being applied; each command, run twice with its
    key (the second run a client's retry), is in the log once, where its results say."""
    add(faulty_store, course("c1", capacity=1000))
    for n in range(60):
        key = f"key-{n}" if n % 3 else None
        first = subscribe(faulty_store, f"s{n}", key)
        assert not first.duplicate
        if key is not None:
            second = subscribe(faulty_store, f"s{n}", key)
            assert second.duplicate and second.position == first.position
    assert Reader(faulty_store)(SeminarJoined) == [sub(f"s{n}") for n in range(60)]


class Overtaken(Subscribe):
    """Subscribe, overtaken while deciding by a request with the same key that completes."""

    def decide(self, read: Reader, course_id: str, student_id: str) -> SeminarJoined:
        data = {"course_id": course_id, "student_id": student_id}
        run_command(Subscribe, data, store=read.store, idempotency_key="shared")
        return super().decide(read, course_id, student_id)


def test_a_rejection_caused_by_a_same_key_request_reports_that_request(
    store: DcbStore, registered: Registry
) -> None:
    """The replay check found the key unused, then the other request appended: deciding now
    says "already subscribed", because of the very run this request repeats."""
    add(store, course("c1"))
    data = {"course_id": "c1", "student_id": "s1"}
    result = run_command(Overtaken, data, store=store, idempotency_key="shared")
    assert result.duplicate and [r.event for r in result.events] == [sub("s1")]
    assert len(subscribers(store)) == 1
