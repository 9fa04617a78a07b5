"""Changing a course's capacity: not below its subscribers, and only when it changes."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .change_course_capacity import ChangeCourseCapacity
from .events import CourseCapacityChanged, CourseDefined, StudentSubscribedToCourse

ALGEBRA = CourseDefined(course_id="c1", title="Algebra", capacity=3)


def test_a_course_grows(fairway: Scenario) -> None:
    fairway.given(ALGEBRA)
    fairway.when(ChangeCourseCapacity, course_id="c1", capacity=10)
    fairway.then(CourseCapacityChanged(course_id="c1", capacity=10))


def test_a_course_shrinks_down_to_its_subscribers(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, StudentSubscribedToCourse(course_id="c1", student_id="s1"))
    fairway.when(ChangeCourseCapacity, course_id="c1", capacity=1)
    fairway.then(CourseCapacityChanged(course_id="c1", capacity=1))


def test_a_course_cannot_shrink_below_its_subscribers(fairway: Scenario) -> None:
    fairway.given(
        ALGEBRA,
        StudentSubscribedToCourse(course_id="c1", student_id="s1"),
        StudentSubscribedToCourse(course_id="c1", student_id="s2"),
    )
    fairway.when(ChangeCourseCapacity, course_id="c1", capacity=1)
    fairway.then_rejected("capacity_below_subscribers")


def test_the_same_capacity_changes_nothing(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, CourseCapacityChanged(course_id="c1", capacity=5))
    fairway.when(ChangeCourseCapacity, course_id="c1", capacity=5)
    fairway.then_nothing()


def test_an_unknown_course_has_no_capacity(fairway: Scenario) -> None:
    fairway.when(ChangeCourseCapacity, course_id="c1", capacity=5)
    fairway.then_rejected("course_not_found")
