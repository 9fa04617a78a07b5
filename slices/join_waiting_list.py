"""Put a student on a course's waiting list: once, and not when already subscribed."""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Command, Reader, Rejected

from .events import (
    CourseDefined, StudentJoinedWaitingList, StudentRegistered, StudentSubscribedToCourse,
    StudentUnsubscribedFromCourse,
)


class JoinWaitingList(Command):
    route = "courses/<str:course_id>/waiting-list"
    rejections = {"course_not_found": 404, "student_not_found": 404,
                  "already_waiting": 409, "already_subscribed": 409}

    class Input(serializers.Serializer):
        course_id = serializers.CharField(max_length=64)
        student_id = serializers.CharField(max_length=64)

    def decide(self, read: Reader, course_id: str, student_id: str) -> StudentJoinedWaitingList:
        if not read.exists(CourseDefined, course_id=course_id):
            raise Rejected("course_not_found", f"There is no course {course_id!r}.")
        if not read.exists(StudentRegistered, student_id=student_id):
            raise Rejected("student_not_found", f"There is no student {student_id!r}.")
        if read.exists(StudentJoinedWaitingList, course_id=course_id, student_id=student_id):
            raise Rejected("already_waiting", f"{student_id!r} is already waiting for it.")
        last = read.last(StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
                         course_id=course_id, student_id=student_id)
        if isinstance(last, StudentSubscribedToCourse):
            raise Rejected("already_subscribed", f"{student_id!r} is in {course_id!r} already.")
        return StudentJoinedWaitingList(course_id=course_id, student_id=student_id)
