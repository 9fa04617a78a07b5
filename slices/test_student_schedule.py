"""A student's schedule: the courses they are in, looked up by how many."""

from __future__ import annotations

from fairway_django.framework.readmodels import ReadModel
from fairway_django.testing import Scenario

from .events import StudentRegistered, StudentSubscribedToCourse, StudentUnsubscribedFromCourse
from .student_schedule import StudentSchedule


def test_a_schedule_lists_the_courses_a_student_is_in(fairway: Scenario) -> None:
    fairway.given(
        StudentRegistered(student_id="s1", username="ada", name="Ada"),
        StudentSubscribedToCourse(course_id="c1", student_id="s1"),
        StudentSubscribedToCourse(course_id="c2", student_id="s1"),
        StudentUnsubscribedFromCourse(course_id="c1", student_id="s1"),
        StudentRegistered(student_id="s2", username="bob", name="Bob"),
    )
    fairway.then_document(StudentSchedule, "s1", {
        "name": "Ada", "courses": ["c2"], "course_count": 1,
    })
    by_count = ReadModel(StudentSchedule, fairway.store).page(course_count=0)
    assert [key for key, _ in by_count.documents] == ["s2"]


def test_over_http_a_schedule_is_read_by_student(fairway: Scenario) -> None:
    fairway.given(StudentRegistered(student_id="s1", username="ada", name="Ada"))
    fairway.catch_up(StudentSchedule)
    fairway.when_request("GET", "/api/schedules/s1")
    fairway.then_status(200, {"key": "s1", "name": "Ada", "courses": [], "course_count": 0})
    fairway.when_request("GET", "/api/schedules", {"course_count": "x"})
    fairway.then_status(400)
