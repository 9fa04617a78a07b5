"""Subscribe a student to a course: not when it is full, not to a sixth course, not twice."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework import serializers

from fairway_django.framework import Command, Event, Reader, Rejected

from .events import (
    CourseCapacityChanged, CourseDefined, StudentRegistered,
    StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)

MAX_COURSES_PER_STUDENT = 5
SUBSCRIPTIONS = (StudentSubscribedToCourse, StudentUnsubscribedFromCourse)


class SubscribeStudentToCourse(Command):
    route = "courses/<str:course_id>/subscriptions"
    rejections = {"course_not_found": 404, "student_not_found": 404,
                  "already_subscribed": 409, "course_full": 409, "too_many_courses": 409}

    class Input(serializers.Serializer):
        course_id = serializers.CharField(max_length=64)
        student_id = serializers.CharField(max_length=64)

    def decide(self, read: Reader, course_id: str, student_id: str) -> StudentSubscribedToCourse:
        course = read.last(CourseDefined, CourseCapacityChanged, course_id=course_id)
        if course is None:
            raise Rejected("course_not_found", f"There is no course {course_id!r}.")
        if not read.exists(StudentRegistered, student_id=student_id):
            raise Rejected("student_not_found", f"There is no student {student_id!r}.")
        students = subscribed(read(*SUBSCRIPTIONS, course_id=course_id), "student_id")
        courses = subscribed(read(*SUBSCRIPTIONS, student_id=student_id), "course_id")
        if student_id in students:
            raise Rejected("already_subscribed", f"{student_id!r} is already in {course_id!r}.")
        if len(students) >= course.capacity:
            raise Rejected("course_full", f"Course {course_id!r} has no free place.")
        if len(courses) >= MAX_COURSES_PER_STUDENT:
            raise Rejected("too_many_courses",
                           f"{student_id!r} already has {MAX_COURSES_PER_STUDENT} courses.")
        return StudentSubscribedToCourse(course_id=course_id, student_id=student_id)


def subscribed(events: Iterable[Event], field: str) -> set[str]:
    """The ``field`` values of the subscriptions that ``events`` leave standing."""
    ids: set[str] = set()
    for event in events:
        change = ids.add if isinstance(event, StudentSubscribedToCourse) else ids.discard
        change(getattr(event, field))
    return ids
