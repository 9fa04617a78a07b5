"""The course view: title, capacity and subscribers, as of the latest event."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .course import Course
from .events import (
    CourseCapacityChanged, CourseDefined, StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)


def test_a_course_shows_its_latest_capacity_and_current_subscribers(fairway: Scenario) -> None:
    fairway.given(
        CourseDefined(course_id="c1", title="Algebra", capacity=3),
        StudentSubscribedToCourse(course_id="c1", student_id="s1"),
        StudentSubscribedToCourse(course_id="c1", student_id="s2"),
        StudentSubscribedToCourse(course_id="c2", student_id="s3"),
        StudentUnsubscribedFromCourse(course_id="c1", student_id="s1"),
        CourseCapacityChanged(course_id="c1", capacity=4),
    )
    fairway.then_view(
        Course, {"course_id": "c1", "title": "Algebra", "capacity": 4, "subscribers": ["s2"]},
        course_id="c1",
    )


def test_over_http_a_course_is_read_at_least_as_of_a_position(fairway: Scenario) -> None:
    fairway.given(CourseDefined(course_id="c1", title="Algebra", capacity=3))
    head = fairway.store.head()
    fairway.when_request("GET", "/api/courses/c1", {"min_position": str(head)})
    fairway.then_status(
        200, {"course_id": "c1", "title": "Algebra", "capacity": 3, "subscribers": []}
    )
    assert fairway.response is not None
    assert fairway.response["Fairway-Position"] == str(head)


def test_over_http_an_unknown_course_is_a_404(fairway: Scenario) -> None:
    fairway.when_request("GET", "/api/courses/c1")
    fairway.then_status(404)
    fairway.then_rejected("not_found")
