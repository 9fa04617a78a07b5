"""The tracking reader: typed reads at one consistent cut, and the condition they add up to."""

from __future__ import annotations

import pytest

from fairway_django.dcb import AppendCondition, AppendConditionFailed, DcbStore, Query
from fairway_django.framework import Reader, select
from fairway_django.framework.codec import encode

from .model import SeminarDefined, MemberRegistered, SeminarJoined


def add(store: DcbStore, *events: SeminarDefined | SeminarJoined | MemberRegistered) -> None:
    store.append([encode(event) for event in events])


def course(course_id: str = "c1", capacity: int = 2) -> SeminarDefined:
    return SeminarDefined(course_id=course_id, title=f"Course {course_id}", capacity=capacity)


def sub(student_id: str, course_id: str = "c1") -> SeminarJoined:
    return SeminarJoined(course_id=course_id, student_id=student_id)


def test_reads_return_typed_events_in_order(store: DcbStore) -> None:
    add(store, course("c1"), sub("s1"), course("c2"), sub("s2"), sub("s3", "c2"))
    read = Reader(store)
    assert read(SeminarJoined, course_id="c1") == [sub("s1"), sub("s2")]
    assert read(SeminarDefined, SeminarJoined, course_id="c2") == [course("c2"), sub("s3", "c2")]
    assert read.last(SeminarJoined, course_id="c1") == sub("s2")
    assert read.last(SeminarJoined, course_id="c9") is None
    assert read.exists(SeminarDefined, course_id="c2")
    assert not read.exists(SeminarDefined, course_id="c9")
    recorded = read.recorded(SeminarJoined)
    assert [r.event for r in recorded] == [sub("s1"), sub("s2"), sub("s3", "c2")]
    assert recorded[0].position < recorded[1].position < recorded[2].position
    assert [r.event for r in read.query(select(SeminarDefined) | select(MemberRegistered))] == [
        course("c1"), course("c2"),
    ]


def test_every_read_sees_the_log_as_it_was_at_the_first(store: DcbStore) -> None:
    add(store, course("c1"), sub("s1"))
    read = Reader(store)
    assert read(SeminarJoined, course_id="c1") == [sub("s1")]
    head = store.head()
    add(store, sub("s2"), course("c2"))
    assert read.head == head
    assert read(SeminarJoined, course_id="c1") == [sub("s1")]
    assert read.last(SeminarJoined, course_id="c1") == sub("s1")
    assert not read.exists(SeminarDefined, course_id="c2")
    assert Reader(store).last(SeminarJoined, course_id="c1") == sub("s2")


def test_an_empty_log_reads_nothing_and_conditions_on_anything_matching(store: DcbStore) -> None:
    read = Reader(store)
    assert read(SeminarDefined) == []
    assert read.last(SeminarDefined) is None
    assert not read.exists(SeminarDefined)
    assert read.condition() == AppendCondition(select(SeminarDefined).dcb, after=None)


def test_no_read_means_no_condition(store: DcbStore) -> None:
    assert Reader(store).condition() is None


def test_the_condition_unions_every_read_once_even_empty_ones(store: DcbStore) -> None:
    add(store, course("c1"))
    read = Reader(store)
    read.last(SeminarDefined, course_id="c1")
    read.exists(MemberRegistered, username="ann")  # returns nothing; still tracked
    read(SeminarJoined, course_id="c1")
    read(SeminarJoined, course_id="c1")
    items = [
        select(SeminarDefined, course_id="c1").dcb.items[0],
        select(MemberRegistered, username="ann").dcb.items[0],
        select(SeminarJoined, course_id="c1").dcb.items[0],
    ]
    assert read.condition() == AppendCondition(Query(items), after=store.head())


@pytest.mark.parametrize("late", ["course", "username", "subscription"])
def test_the_condition_fails_on_anything_any_read_would_have_seen(
    store: DcbStore, late: str
) -> None:
    add(store, course("c1"))
    read = Reader(store)
    read.last(SeminarDefined, course_id="c1")
    read.exists(MemberRegistered, username="ann")
    read(SeminarJoined, course_id="c1")
    condition = read.condition()
    add(store, course("c2"), sub("s1", "c2"))  # matches nothing read: no conflict
    store.append([encode(sub("x", "c3"))], condition)
    add(store, {
        "course": course("c1", 5),
        "username": MemberRegistered(student_id="s9", username="ann", name="Ann"),
        "subscription": sub("s1"),
    }[late])
    with pytest.raises(AppendConditionFailed):
        store.append([encode(sub("y", "c3"))], condition)
