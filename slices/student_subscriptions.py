"""A student's courses: who the student is and which courses they are subscribed to now."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fairway_django.framework import View, on

from .events import StudentRegistered, StudentSubscribedToCourse, StudentUnsubscribedFromCourse

State = dict[str, Any]


class StudentSubscriptions(View):
    route = "students/<str:student_id>/subscriptions"

    class Output(serializers.Serializer):
        student_id = serializers.CharField()
        username = serializers.CharField()
        name = serializers.CharField()
        courses = serializers.ListField(child=serializers.CharField())

    def initial(self, student_id: str) -> State:
        return {"student_id": student_id, "username": "", "name": "", "courses": []}

    @on(StudentRegistered)
    def registered(self, state: State, event: StudentRegistered) -> State:
        return {**state, "username": event.username, "name": event.name}

    @on(StudentSubscribedToCourse)
    def subscribed(self, state: State, event: StudentSubscribedToCourse) -> State:
        return {**state, "courses": [*state["courses"], event.course_id]}

    @on(StudentUnsubscribedFromCourse)
    def unsubscribed(self, state: State, event: StudentUnsubscribedFromCourse) -> State:
        return {**state, "courses": [c for c in state["courses"] if c != event.course_id]}
