"""The student's view: who they are and the courses they are subscribed to now."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .events import StudentRegistered, StudentSubscribedToCourse, StudentUnsubscribedFromCourse
from .student_subscriptions import StudentSubscriptions


def test_a_student_sees_the_courses_they_are_still_subscribed_to(fairway: Scenario) -> None:
    fairway.given(
        StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace"),
        StudentSubscribedToCourse(course_id="c1", student_id="s1"),
        StudentSubscribedToCourse(course_id="c2", student_id="s1"),
        StudentSubscribedToCourse(course_id="c1", student_id="s2"),
        StudentUnsubscribedFromCourse(course_id="c1", student_id="s1"),
    )
    fairway.then_view(
        StudentSubscriptions,
        {"student_id": "s1", "username": "ada", "name": "Ada Lovelace", "courses": ["c2"]},
        student_id="s1",
    )


def test_a_new_student_has_no_courses(fairway: Scenario) -> None:
    fairway.given(StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace"))
    fairway.when_request("GET", "/api/students/s1/subscriptions")
    fairway.then_status(
        200, {"student_id": "s1", "username": "ada", "name": "Ada Lovelace", "courses": []}
    )
