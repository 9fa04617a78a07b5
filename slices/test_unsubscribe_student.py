"""Unsubscribing a student: only from a course they are subscribed to."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .events import StudentSubscribedToCourse, StudentUnsubscribedFromCourse
from .unsubscribe_student import UnsubscribeStudentFromCourse

SUBSCRIBED = StudentSubscribedToCourse(course_id="c1", student_id="s1")
UNSUBSCRIBED = StudentUnsubscribedFromCourse(course_id="c1", student_id="s1")


def test_a_subscribed_student_unsubscribes(fairway: Scenario) -> None:
    fairway.given(SUBSCRIBED)
    fairway.when(UnsubscribeStudentFromCourse, course_id="c1", student_id="s1")
    fairway.then(UNSUBSCRIBED)


def test_a_student_who_never_subscribed_cannot_unsubscribe(fairway: Scenario) -> None:
    fairway.given(StudentSubscribedToCourse(course_id="c1", student_id="s2"))
    fairway.when(UnsubscribeStudentFromCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("not_subscribed")


def test_a_student_unsubscribes_once(fairway: Scenario) -> None:
    fairway.given(SUBSCRIBED, UNSUBSCRIBED)
    fairway.when(UnsubscribeStudentFromCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("not_subscribed")


def test_a_student_can_come_back_and_leave_again(fairway: Scenario) -> None:
    fairway.given(SUBSCRIBED, UNSUBSCRIBED, SUBSCRIBED)
    fairway.when(UnsubscribeStudentFromCourse, course_id="c1", student_id="s1")
    fairway.then(UNSUBSCRIBED)
