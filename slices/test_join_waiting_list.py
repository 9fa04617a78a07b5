"""Joining a course's waiting list: once per student, and not when already in the course."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .events import (
    CourseDefined, StudentJoinedWaitingList, StudentRegistered, StudentSubscribedToCourse,
    StudentUnsubscribedFromCourse,
)
from .join_waiting_list import JoinWaitingList

ALGEBRA = CourseDefined(course_id="c1", title="Algebra", capacity=1)
ADA = StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace")


def test_a_student_joins_the_waiting_list(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, ADA)
    fairway.when(JoinWaitingList, course_id="c1", student_id="s1")
    fairway.then(StudentJoinedWaitingList(course_id="c1", student_id="s1"))
    fairway.when(JoinWaitingList, course_id="c1", student_id="s1")
    fairway.then_rejected("already_waiting")


def test_unknown_courses_and_students_and_subscribers_are_turned_away(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(JoinWaitingList, course_id="c1", student_id="s1").then_rejected(
        "course_not_found"
    )
    fairway.given(ALGEBRA)
    fairway.when(JoinWaitingList, course_id="c1", student_id="s9").then_rejected(
        "student_not_found"
    )
    fairway.given(StudentSubscribedToCourse(course_id="c1", student_id="s1"))
    fairway.when(JoinWaitingList, course_id="c1", student_id="s1").then_rejected(
        "already_subscribed"
    )
    fairway.given(StudentUnsubscribedFromCourse(course_id="c1", student_id="s1"))
    fairway.when(JoinWaitingList, course_id="c1", student_id="s1")
    fairway.then(StudentJoinedWaitingList(course_id="c1", student_id="s1"))


def test_over_http_joining_twice_is_a_409(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, ADA)
    fairway.when_request("POST", "/api/courses/c1/waiting-list", {"student_id": "s1"})
    fairway.then(StudentJoinedWaitingList(course_id="c1", student_id="s1"))
    fairway.when_request("POST", "/api/courses/c1/waiting-list", {"student_id": "s1"})
    fairway.then_status(409)
    fairway.then_rejected("already_waiting")
