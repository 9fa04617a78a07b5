"""Change a course's capacity: never below the number of students already subscribed."""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Command, Reader, Rejected

from .events import CourseCapacityChanged, CourseDefined
from .subscribe_student import SUBSCRIPTIONS, subscribed


class ChangeCourseCapacity(Command):
    route = "courses/<str:course_id>/capacity"
    rejections = {"course_not_found": 404, "capacity_below_subscribers": 409}

    class Input(serializers.Serializer):
        course_id = serializers.CharField(max_length=64)
        capacity = serializers.IntegerField(min_value=1)

    def decide(self, read: Reader, course_id: str, capacity: int) -> CourseCapacityChanged | None:
        course = read.last(CourseDefined, CourseCapacityChanged, course_id=course_id)
        if course is None:
            raise Rejected("course_not_found", f"There is no course {course_id!r}.")
        students = subscribed(read(*SUBSCRIPTIONS, course_id=course_id), "student_id")
        if capacity < len(students):
            raise Rejected(
                "capacity_below_subscribers",
                f"Course {course_id!r} already has {len(students)} students.",
            )
        if capacity == course.capacity:
            return None  # nothing changes, so nothing happened
        return CourseCapacityChanged(course_id=course_id, capacity=capacity)
