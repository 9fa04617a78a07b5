"""Unsubscribe a student from a course they are subscribed to, freeing the place."""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Command, Reader, Rejected

from .events import StudentSubscribedToCourse, StudentUnsubscribedFromCourse


class UnsubscribeStudentFromCourse(Command):
    route = "courses/<str:course_id>/unsubscriptions"
    rejections = {"not_subscribed": 409}

    class Input(serializers.Serializer):
        course_id = serializers.CharField(max_length=64)
        student_id = serializers.CharField(max_length=64)

    def decide(
        self, read: Reader, course_id: str, student_id: str
    ) -> StudentUnsubscribedFromCourse:
        last = read.last(
            StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
            course_id=course_id, student_id=student_id,
        )
        if not isinstance(last, StudentSubscribedToCourse):
            raise Rejected(
                "not_subscribed", f"{student_id!r} is not subscribed to {course_id!r}."
            )
        return StudentUnsubscribedFromCourse(course_id=course_id, student_id=student_id)
