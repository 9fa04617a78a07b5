"""Live views: folded from the log on each call; min_position waits for a client's own write."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from fairway_django.dcb import DcbStore, Position
from fairway_django.framework import (
    EventQuery,
    InvalidSelection,
    NotCaughtUp,
    NotFound,
    View,
    compute_view,
    on,
    run_command,
    select,
)

from .model import Course, MemberRegistered, SeminarDefined, SeminarJoined, Subscribe
from .test_reader import add, course, sub


def test_a_view_folds_its_events_in_order(store: DcbStore) -> None:
    add(store, course("c1"), course("c2"), sub("s1"), sub("s9", "c2"), sub("s2"))
    result = compute_view(Course, {"course_id": "c1"}, store=store)
    assert result.state == {"course_id": "c1", "title": "Course c1", "students": ["s1", "s2"]}
    assert result.count == 3
    assert result.position == store.head()


def test_no_matching_event_is_not_found_unless_the_view_says_otherwise(store: DcbStore) -> None:
    add(store, course("c1"))
    with pytest.raises(NotFound, match="Course found no events for course_id='c2'"):
        compute_view(Course, {"course_id": "c2"}, store=store)

    class Lenient(Course):
        not_found_when_empty = False

    empty = compute_view(Lenient, {"course_id": "c2"}, store=store)
    assert (empty.state["students"], empty.position, empty.count) == ([], None, 0)


def test_min_position_waits_for_a_write_in_flight(store: DcbStore) -> None:
    add(store, course("c1"))
    head = store.head()
    assert head is not None
    writer = threading.Timer(
        0.2, lambda: run_command(Subscribe, {"course_id": "c1", "student_id": "s1"}, store=store)
    )
    writer.start()
    wanted = Position((int.from_bytes(head.raw) + 1).to_bytes(12))
    started = time.monotonic()
    result = compute_view(Course, {"course_id": "c1"}, store=store, min_position=wanted)
    assert 0.15 < time.monotonic() - started < 3
    assert result.state["students"] == ["s1"]
    writer.join()


def test_min_position_already_reached_does_not_wait(store: DcbStore) -> None:
    add(store, course("c1"))
    head = store.head()
    started = time.monotonic()
    compute_view(Course, {"course_id": "c1"}, store=store, min_position=head)
    assert time.monotonic() - started < 0.5


def test_min_position_not_reached_in_time_is_not_caught_up(store: DcbStore) -> None:
    add(store, course("c1"))
    started = time.monotonic()
    with pytest.raises(NotCaughtUp, match="ffffffffffffffffffff0000") as error:
        compute_view(
            Course, {"course_id": "c1"}, store=store,
            min_position=Position.parse("ffffffffffffffffffff0000"), timeout=0.3,
        )
    assert 0.25 < time.monotonic() - started < 3
    assert error.value.code == "not_caught_up"


def test_a_parameter_that_is_not_a_tag_of_every_handled_class_is_refused(
    store: DcbStore,
) -> None:
    with pytest.raises(InvalidSelection, match="SeminarDefined has no tag field 'student_id'"):
        compute_view(Course, {"student_id": "s1"}, store=store)


class Nothing(View):
    pass


def test_a_view_handling_nothing_is_refused(store: DcbStore) -> None:
    with pytest.raises(InvalidSelection, match="Nothing handles no event class"):
        compute_view(Nothing, {}, store=store)


def test_handlers_are_found_by_class_and_inherited() -> None:
    assert Course.handled_events() == (SeminarDefined, SeminarJoined)

    class Wider(Course):
        @on(MemberRegistered)
        def registered(self, state: Any, event: MemberRegistered) -> Any:
            return state

    assert Wider.handled_events() == (SeminarDefined, SeminarJoined, MemberRegistered)
    assert Course.slice_name == "course" and Wider.slice_name == "wider"


def test_one_class_handled_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="handles SeminarDefined in both a\\(\\) and b\\(\\)"):

        class Twice(View):
            @on(SeminarDefined)
            def a(self, state: Any, event: Any) -> Any:
                return state

            @on(SeminarDefined)
            def b(self, state: Any, event: Any) -> Any:
                return state


class ByQuery(View):
    """A view with its own query: every seminar, whatever the parameters."""

    not_found_when_empty = False

    def initial(self, **params: Any) -> int:
        return 0

    def query(self, **params: Any) -> EventQuery:
        return select(SeminarDefined)

    @on(SeminarDefined)
    def defined(self, state: int, event: SeminarDefined) -> int:
        return state + event.capacity


def test_a_view_may_choose_its_own_query(store: DcbStore) -> None:
    add(store, course("c1", 2), course("c2", 3))
    assert compute_view(ByQuery, {"anything": 1}, store=store).state == 5
