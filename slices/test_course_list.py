"""The course list projection: free places follow subscriptions and capacity changes, and the
list filters on them over HTTP."""

from __future__ import annotations

from unittest.mock import ANY

from fairway_django.testing import Scenario

from .course_list import CourseList
from .events import (
    CourseCapacityChanged, CourseDefined, StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)


def test_free_places_follow_subscriptions_and_capacity(fairway: Scenario) -> None:
    fairway.given(
        CourseDefined(course_id="c1", title="Algebra", capacity=2),
        StudentSubscribedToCourse(course_id="c1", student_id="s1"),
        StudentSubscribedToCourse(course_id="c1", student_id="s2"),
    )
    fairway.then_document(CourseList, "c1", {
        "title": "Algebra", "capacity": 2, "subscribers": 2, "free_places": 0,
        "has_free_places": False,
    })
    fairway.given(
        CourseCapacityChanged(course_id="c1", capacity=3),
        StudentUnsubscribedFromCourse(course_id="c1", student_id="s1"),
    )
    fairway.then_document(CourseList, "c1", {
        "title": "Algebra", "capacity": 3, "subscribers": 1, "free_places": 2,
        "has_free_places": True,
    })
    fairway.then_document(CourseList, "c2", None)


def test_over_http_the_list_pages_through_the_courses_with_free_places(fairway: Scenario) -> None:
    fairway.given(
        *(CourseDefined(course_id=f"c{i}", title=f"Course {i}", capacity=1) for i in range(5)),
        StudentSubscribedToCourse(course_id="c2", student_id="s1"),
    ).catch_up(CourseList)
    fairway.when_request("GET", "/api/course-list", {"has_free_places": "true", "limit": "3"})
    fairway.then_status(200, {
        "results": [
            {"key": key, "title": ANY, "capacity": 1, "subscribers": 0, "free_places": 1,
             "has_free_places": True}
            for key in ("c0", "c1", "c3")
        ],
        "next_cursor": "c3",
        "next": "http://testserver/api/course-list?has_free_places=true&limit=3&cursor=c3",
    })
    fairway.when_request("GET", "/api/course-list",
                         {"has_free_places": "true", "limit": "3", "cursor": "c3"})
    fairway.then_status(200, {"results": [ANY], "next_cursor": None, "next": None})
    fairway.when_request("GET", "/api/course-list/c2")
    fairway.then_status(200, {
        "key": "c2", "title": "Course 2", "capacity": 1, "subscribers": 1, "free_places": 0,
        "has_free_places": False,
    })


def test_over_http_bad_filters_are_400s_and_unknown_courses_404s(fairway: Scenario) -> None:
    fairway.given(CourseDefined(course_id="c1", title="Algebra", capacity=1)).catch_up(CourseList)
    fairway.when_request("GET", "/api/course-list", {"has_free_places": "perhaps"})
    fairway.then_status(400)
    fairway.when_request("GET", "/api/course-list", {"limit": "0"})
    fairway.then_status(400)
    fairway.when_request("GET", "/api/course-list", {"min_position": "nope"})
    fairway.then_status(400)
    fairway.then_rejected("invalid_position")
    fairway.when_request("GET", "/api/course-list/c9")
    fairway.then_status(404)
    fairway.then_rejected("not_found")
