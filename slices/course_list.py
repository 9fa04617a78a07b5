"""The course list: every course with its free places, kept up to date by run_projectors.

``GET /api/course-list?has_free_places=true`` pages through the courses a student can still
join; ``GET /api/course-list/<course_id>`` shows one.
"""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Documents, Projection, on

from .events import (
    CourseCapacityChanged, CourseDefined, StudentSubscribedToCourse, StudentUnsubscribedFromCourse,
)


class CourseList(Projection):
    route = "course-list"
    lookups = {"has_free_places": bool}

    class Output(serializers.Serializer):
        key = serializers.CharField(help_text="The course id.")
        title = serializers.CharField()
        capacity = serializers.IntegerField()
        subscribers = serializers.IntegerField()
        free_places = serializers.IntegerField()
        has_free_places = serializers.BooleanField()

    @on(CourseDefined)
    def defined(self, docs: Documents, event: CourseDefined) -> None:
        store(docs, event.course_id, event.title, event.capacity, subscribers=0)

    @on(CourseCapacityChanged)
    def resized(self, docs: Documents, event: CourseCapacityChanged) -> None:
        course = docs.get(event.course_id)
        if course is not None:
            store(docs, event.course_id, course["title"], event.capacity, course["subscribers"])

    @on(StudentSubscribedToCourse, StudentUnsubscribedFromCourse)
    def subscriptions(
        self, docs: Documents, event: StudentSubscribedToCourse | StudentUnsubscribedFromCourse
    ) -> None:
        course = docs.get(event.course_id)
        if course is not None:
            change = 1 if isinstance(event, StudentSubscribedToCourse) else -1
            subscribers = course["subscribers"] + change
            store(docs, event.course_id, course["title"], course["capacity"], subscribers)


def store(docs: Documents, course_id: str, title: str, capacity: int, subscribers: int) -> None:
    """Put the course with its free places worked out."""
    free = max(capacity - subscribers, 0)
    docs.put(course_id, {
        "title": title, "capacity": capacity, "subscribers": subscribers,
        "free_places": free, "has_free_places": free > 0,
    })
