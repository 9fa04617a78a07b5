"""Defining a course: once per course id."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .define_course import DefineCourse
from .events import CourseDefined


def test_a_new_course_is_defined(fairway: Scenario) -> None:
    fairway.when(DefineCourse, course_id="c1", title="Algebra", capacity=3)
    fairway.then(CourseDefined(course_id="c1", title="Algebra", capacity=3))


def test_a_course_id_is_defined_only_once(fairway: Scenario) -> None:
    fairway.given(CourseDefined(course_id="c1", title="Algebra", capacity=3))
    fairway.when(DefineCourse, course_id="c1", title="Geometry", capacity=5)
    fairway.then_rejected("course_exists")


def test_over_http_a_course_needs_a_positive_capacity(fairway: Scenario) -> None:
    fairway.when_request("POST", "/api/courses", {"course_id": "c1", "title": "X", "capacity": 0})
    fairway.then_status(400)
    assert fairway.appended == []


def test_over_http_a_defined_course_answers_201_with_its_event(fairway: Scenario) -> None:
    fairway.when_request(
        "POST", "/api/courses", {"course_id": "c1", "title": "Algebra", "capacity": 3}
    )
    fairway.then_status(201)
    fairway.then(CourseDefined(course_id="c1", title="Algebra", capacity=3))
