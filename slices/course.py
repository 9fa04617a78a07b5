"""A course as people see it: its title, its capacity and who is subscribed, always current."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fairway_django.framework import View, on

from .events import (
    CourseCapacityChanged, CourseDefined, StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)

State = dict[str, Any]


class Course(View):
    route = "courses/<str:course_id>"

    class Output(serializers.Serializer):
        course_id = serializers.CharField()
        title = serializers.CharField()
        capacity = serializers.IntegerField()
        subscribers = serializers.ListField(child=serializers.CharField())

    def initial(self, course_id: str) -> State:
        return {"course_id": course_id, "title": "", "capacity": 0, "subscribers": []}

    @on(CourseDefined)
    def defined(self, state: State, event: CourseDefined) -> State:
        return {**state, "title": event.title, "capacity": event.capacity}

    @on(CourseCapacityChanged)
    def resized(self, state: State, event: CourseCapacityChanged) -> State:
        return {**state, "capacity": event.capacity}

    @on(StudentSubscribedToCourse)
    def subscribed(self, state: State, event: StudentSubscribedToCourse) -> State:
        return {**state, "subscribers": [*state["subscribers"], event.student_id]}

    @on(StudentUnsubscribedFromCourse)
    def unsubscribed(self, state: State, event: StudentUnsubscribedFromCourse) -> State:
        others = [student for student in state["subscribers"] if student != event.student_id]
        return {**state, "subscribers": others}
