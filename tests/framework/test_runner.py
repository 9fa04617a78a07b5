"""run_command: decide, append with the reader's condition, retry on conflicts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from fairway_django.dcb import DcbStore
from fairway_django.framework import (
    Backoff,
    Command,
    ConsistencyConflict,
    InvalidEventData,
    Reader,
    Rejected,
    run_command,
)
from fairway_django.framework.codec import encode

from .model import SeminarDefined, DefineCourse, MemberRegistered, SeminarJoined, Subscribe
from .test_reader import add, course, sub

NO_WAIT = Backoff(attempts=3, initial=0.0, maximum=0.0)


def logged(store: DcbStore) -> list[str]:
    """The log as event types and data, to compare before and after."""
    return [f"{e.event.type} {e.event.data.decode()}" for e in store.read()]


def test_a_decision_is_appended_and_reported(store: DcbStore) -> None:
    add(store, course("c1"))
    result = run_command(
        Subscribe, {"course_id": "c1", "student_id": "s1"}, store=store,
        correlation_id="corr", causation_id="cause",
    )
    assert [r.event for r in result.events] == [sub("s1")]
    assert (result.duplicate, result.attempts) == (False, 1)
    (last,) = list(store.read(after=None))[-1:]
    assert result.position == last.position == result.events[0].position
    assert last.event.metadata is not None
    assert last.event.metadata["correlation_id"] == "corr"
    assert last.event.metadata["causation_id"] == "cause"
    assert result.events[0].metadata == last.event.metadata


class DefineMany(Command):
    def decide(self, read: Reader, count: int) -> list[SeminarDefined]:
        return [course(f"c{i}") for i in range(count)]


def test_several_events_land_together_at_the_positions_reported(store: DcbStore) -> None:
    add(store, sub("s0"))
    result = run_command(DefineMany, {"count": 3}, store=store)
    log = list(store.read())[1:]
    assert [r.position for r in result.events] == [e.position for e in log]
    assert [r.event for r in result.events] == [course("c0"), course("c1"), course("c2")]
    assert result.position == log[-1].position


def test_a_rejection_propagates_and_appends_nothing(store: DcbStore) -> None:
    add(store, course("c1", capacity=1), sub("s1"))
    before = logged(store)
    with pytest.raises(Rejected) as rejected:
        run_command(Subscribe, {"course_id": "c1", "student_id": "s2"}, store=store)
    assert (rejected.value.code, rejected.value.status) == ("course_full", None)
    assert logged(store) == before


class Noop(Command):
    def decide(self, read: Reader, course_id: str) -> None:
        read(SeminarDefined, course_id=course_id)


def test_an_empty_decision_appends_nothing(store: DcbStore) -> None:
    result = run_command(Noop, {"course_id": "c1"}, store=store)
    assert (result.events, result.position, result.attempts) == ([], None, 1)
    assert store.head() is None


class Blind(Command):
    """Appends without reading; a writer slips in while it decides."""

    def decide(self, read: Reader, course_id: str) -> SeminarDefined:
        add(read.store, course(course_id))
        return course(course_id)


def test_a_decision_that_read_nothing_appends_unconditionally(store: DcbStore) -> None:
    result = run_command(Blind, {"course_id": "c1"}, store=store)
    assert result.attempts == 1
    assert [e.event.type for e in store.read()] == ["SeminarDefined", "SeminarDefined"]


class Interleaved(Command):
    """Reads the course, then the subscriptions; on its first attempt a writer commits an event
    matching the FIRST read, and then one matching the second, between the two reads."""

    retry = NO_WAIT
    seen: ClassVar[list[int]] = []

    def decide(self, read: Reader, course_id: str) -> SeminarJoined:
        found = read.last(SeminarDefined, course_id=course_id)
        assert found is not None
        if len(self.seen) == 0:
            add(read.store, course(course_id, capacity=found.capacity + 1), sub("late"))
        students = read(SeminarJoined, course_id=course_id)
        self.seen.append(found.capacity)
        return sub(f"s{found.capacity}-{len(students)}")


def test_an_event_matching_an_earlier_read_fails_the_append_and_decide_runs_again(
    store: DcbStore,
) -> None:
    """The second read would see a later position than the course change; a condition built
    from the positions seen would miss the change. The consistent cut does not."""
    add(store, course("c1", capacity=2))
    Interleaved.seen.clear()
    result = run_command(Interleaved, {"course_id": "c1"}, store=store)
    assert result.attempts == 2
    assert Interleaved.seen == [2, 3]
    assert [r.event for r in result.events] == [sub("s3-1")]


class Waiting(Command):
    """Subscribes like Subscribe, but its first attempt waits, after reading, for a signal."""

    read_done = threading.Event()
    go = threading.Event()
    attempts: ClassVar[int] = 0

    def decide(self, read: Reader, course_id: str, student_id: str) -> SeminarJoined:
        type(self).attempts += 1
        taken = read(SeminarJoined, course_id=course_id)
        if type(self).attempts == 1:
            self.read_done.set()
            assert self.go.wait(10)
        return sub(f"{student_id}-after-{len(taken)}")


def test_a_concurrent_writer_in_another_thread_forces_a_retry(store: DcbStore) -> None:
    add(store, course("c1", capacity=5))
    results: list[Any] = []
    waiting = threading.Thread(
        target=lambda: results.append(
            run_command(Waiting, {"course_id": "c1", "student_id": "w"}, store=store)
        )
    )
    waiting.start()
    assert Waiting.read_done.wait(10)
    other = threading.Thread(
        target=lambda: run_command(Subscribe, {"course_id": "c1", "student_id": "s1"}, store=store)
    )
    other.start()
    other.join(10)
    Waiting.go.set()
    waiting.join(10)
    (result,) = results
    assert result.attempts == 2
    assert [r.event for r in result.events] == [sub("w-after-1")]
    subscribed = [e.student_id for e in Reader(store)(SeminarJoined)]
    assert subscribed == ["s1", "w-after-1"]


class AlwaysRaced(Command):
    retry = NO_WAIT

    def decide(self, read: Reader, student_id: str) -> MemberRegistered:
        read.exists(MemberRegistered, username="ann")
        add(read.store, MemberRegistered(student_id="other", username="ann", name="Other"))
        return MemberRegistered(student_id=student_id, username="ann", name="Ann")


def test_when_attempts_run_out_a_consistency_conflict_says_so(store: DcbStore) -> None:
    with pytest.raises(ConsistencyConflict) as conflict:
        run_command(AlwaysRaced, {"student_id": "s1"}, store=store)
    message = str(conflict.value)
    assert "AlwaysRaced" in message and "3 attempts" in message
    assert "Nothing was appended" in message and "Backoff(attempts=" in message
    assert conflict.value.code == "consistency_conflict"
    assert [e.student_id for e in Reader(store)(MemberRegistered)] == ["other"] * 3


def test_invalid_event_data_propagates_at_once(store: DcbStore) -> None:
    with pytest.raises(InvalidEventData, match="capacity"):
        run_command(DefineCourse, {"course_id": "c1", "title": "t", "capacity": 0}, store=store)
    assert store.head() is None


class Junk(Command):
    def decide(self, read: Reader) -> Any:
        return ["not an event"]


def test_a_decision_that_is_not_events_is_a_type_error(store: DcbStore) -> None:
    with pytest.raises(TypeError, match="Junk.decide returned"):
        run_command(Junk, {}, store=store)


def test_slice_names_default_to_snake_case() -> None:
    assert Subscribe.slice_name == "subscribe"
    assert DefineMany.slice_name == "define_many"
    named: dict[str, Callable[[], type[Command]]] = {
        "subscribe_student_to_course": lambda: type("SubscribeStudentToCourse", (Command,), {}),
        "http_ping": lambda: type("HTTPPing", (Command,), {}),
        "given": lambda: type("Whatever", (Command,), {"slice_name": "given"}),
    }
    for name, make in named.items():
        assert make().slice_name == name


def test_backoff_is_exponential_with_full_jitter_and_checked() -> None:
    backoff = Backoff(attempts=5, initial=0.01, maximum=0.05)
    for attempt, ceiling in [(1, 0.01), (2, 0.02), (3, 0.04), (4, 0.05), (60, 0.05)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2
    assert Command.retry == Backoff(attempts=10, initial=0.002, maximum=0.25)
    for bad in [{"attempts": 0}, {"initial": -1.0}, {"initial": 1.0, "maximum": 0.5}]:
        with pytest.raises(ValueError):
            Backoff(**bad)  # type: ignore[arg-type]


def test_a_rejection_carries_its_code_detail_and_optional_status() -> None:
    rejected = Rejected("course_full", "Course 'c1' is full.", status=410)
    assert (rejected.code, rejected.detail, rejected.status) == (
        "course_full", "Course 'c1' is full.", 410,
    )
    assert str(rejected) == "course_full: Course 'c1' is full."
