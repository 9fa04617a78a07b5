"""Define a course with a title and a capacity; a course id is defined once."""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Command, Reader, Rejected

from .events import CourseDefined


class DefineCourse(Command):
    route = "courses"
    rejections = {"course_exists": 409}

    class Input(serializers.Serializer):
        course_id = serializers.CharField(max_length=64)
        title = serializers.CharField(max_length=200)
        capacity = serializers.IntegerField(min_value=1)

    def decide(self, read: Reader, course_id: str, title: str, capacity: int) -> CourseDefined:
        if read.exists(CourseDefined, course_id=course_id):
            raise Rejected("course_exists", f"Course {course_id!r} is already defined.")
        return CourseDefined(course_id=course_id, title=title, capacity=capacity)
