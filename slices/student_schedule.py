"""A student's schedule: their name and the courses they are in, kept by run_projectors.

``GET /api/schedules/<student_id>`` shows one student's; ``GET /api/schedules?course_count=5``
finds the students who cannot take another course.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fairway_django.framework import Documents, Projection, on

from .events import StudentRegistered, StudentSubscribedToCourse, StudentUnsubscribedFromCourse


class StudentSchedule(Projection):
    route = "schedules"
    lookups = {"course_count": int}

    class Output(serializers.Serializer):
        key = serializers.CharField(help_text="The student id.")
        name = serializers.CharField()
        courses = serializers.ListField(child=serializers.CharField())
        course_count = serializers.IntegerField()

    @on(StudentRegistered)
    def registered(self, docs: Documents, event: StudentRegistered) -> None:
        schedule = docs.get(event.student_id) or {"courses": []}
        put(docs, event.student_id, {**schedule, "name": event.name})

    @on(StudentSubscribedToCourse)
    def subscribed(self, docs: Documents, event: StudentSubscribedToCourse) -> None:
        schedule = docs.get(event.student_id) or {"name": "", "courses": []}
        courses = [*schedule["courses"], event.course_id]
        put(docs, event.student_id, {**schedule, "courses": courses})

    @on(StudentUnsubscribedFromCourse)
    def unsubscribed(self, docs: Documents, event: StudentUnsubscribedFromCourse) -> None:
        schedule = docs.get(event.student_id) or {"name": "", "courses": []}
        courses = [course for course in schedule["courses"] if course != event.course_id]
        put(docs, event.student_id, {**schedule, "courses": courses})


def put(docs: Documents, student_id: str, schedule: dict[str, Any]) -> None:
    docs.put(student_id, {**schedule, "course_count": len(schedule["courses"])})
