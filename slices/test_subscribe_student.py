"""Subscribing a student to a course: not when it is full, not to a sixth course, not twice."""

from __future__ import annotations

from unittest.mock import ANY

from fairway_django.testing import Scenario

from .events import (
    CourseCapacityChanged, CourseDefined, StudentRegistered,
    StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)
from .subscribe_student import SubscribeStudentToCourse

ADA = StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace")


def course(course_id: str, capacity: int = 2) -> CourseDefined:
    return CourseDefined(course_id=course_id, title=f"Course {course_id}", capacity=capacity)


def subscription(course_id: str, student_id: str) -> StudentSubscribedToCourse:
    return StudentSubscribedToCourse(course_id=course_id, student_id=student_id)


def test_a_student_subscribes_to_a_course_with_room(fairway: Scenario) -> None:
    fairway.given(course("c1"), ADA)
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then(subscription("c1", "s1"))


def test_a_full_course_takes_nobody(fairway: Scenario) -> None:
    fairway.given(course("c1", capacity=1), ADA, subscription("c1", "s2"))
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("course_full")


def test_a_course_has_room_again_after_an_unsubscription(fairway: Scenario) -> None:
    fairway.given(
        course("c1", capacity=1), ADA, subscription("c1", "s2"),
        StudentUnsubscribedFromCourse(course_id="c1", student_id="s2"),
    )
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then(subscription("c1", "s1"))


def test_the_latest_capacity_counts(fairway: Scenario) -> None:
    fairway.given(
        course("c1", capacity=2), ADA, subscription("c1", "s2"),
        CourseCapacityChanged(course_id="c1", capacity=1),
    )
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("course_full")


def test_a_student_takes_at_most_five_courses(fairway: Scenario) -> None:
    courses = [f"c{n}" for n in range(1, 7)]
    fairway.given(ADA, *map(course, courses), *(subscription(c, "s1") for c in courses[:5]))
    fairway.when(SubscribeStudentToCourse, course_id="c6", student_id="s1")
    fairway.then_rejected("too_many_courses")


def test_a_student_subscribes_once(fairway: Scenario) -> None:
    fairway.given(course("c1"), ADA, subscription("c1", "s1"))
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("already_subscribed")


def test_the_course_and_the_student_must_exist(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s1")
    fairway.then_rejected("course_not_found")
    fairway.given(course("c1"))
    fairway.when(SubscribeStudentToCourse, course_id="c1", student_id="s2")
    fairway.then_rejected("student_not_found")


def test_over_http_the_course_comes_from_the_url(fairway: Scenario) -> None:
    fairway.given(course("c1"), ADA)
    fairway.when_request("POST", "/api/courses/c1/subscriptions", {"student_id": "s1"})
    fairway.then_status(201, {"position": ANY, "correlation_id": ANY, "events": [
        {"type": "StudentSubscribedToCourse", "position": ANY,
         "tags": ["course:c1", "student:s1"], "data": {"course_id": "c1", "student_id": "s1"}},
    ]})
    fairway.then(subscription("c1", "s1"))


def test_over_http_a_full_course_is_a_409(fairway: Scenario) -> None:
    fairway.given(course("c1", capacity=1), ADA, subscription("c1", "s2"))
    fairway.when_request("POST", "/api/courses/c1/subscriptions", {"student_id": "s1"})
    fairway.then_status(409, {"code": "course_full", "detail": "Course 'c1' has no free place."})
