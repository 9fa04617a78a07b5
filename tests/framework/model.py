"""A small domain for the framework tests: courses and students, declared at module level (event
classes resolve their annotations, and worker processes import them)."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from fairway_django.framework import Command, Event, Reader, Rejected, Tag, View, on
from fairway_django.framework.documents import Documents
from fairway_django.framework.projections import Projection


class SeminarDefined(Event):
    course_id: Annotated[str, Tag]
    title: str
    capacity: Annotated[int, Meta(ge=1)]


class SeminarJoined(Event):
    course_id: Annotated[str, Tag]
    student_id: Annotated[str, Tag]


class MemberRegistered(Event):
    student_id: Annotated[str, Tag]
    username: Annotated[str, Tag]
    name: str


class Subscribe(Command):
    """Subscribe a student, unless the course is unknown or full, or the student already in."""

    def decide(self, read: Reader, course_id: str, student_id: str) -> SeminarJoined:
        course = read.last(SeminarDefined, course_id=course_id)
        if course is None:
            raise Rejected("course_not_found", f"There is no course {course_id!r}.")
        students = {e.student_id for e in read(SeminarJoined, course_id=course_id)}
        if student_id in students:
            raise Rejected("already_subscribed", f"{student_id!r} is already in {course_id!r}.")
        if len(students) >= course.capacity:
            raise Rejected("course_full", f"Course {course_id!r} is full.")
        return SeminarJoined(course_id=course_id, student_id=student_id)


class DefineCourse(Command):
    def decide(self, read: Reader, course_id: str, title: str, capacity: int) -> SeminarDefined:
        return SeminarDefined(course_id=course_id, title=title, capacity=capacity)


class Course(View):
    def initial(self, course_id: str) -> dict[str, Any]:
        return {"course_id": course_id, "title": "", "students": []}

    @on(SeminarDefined)
    def defined(self, state: dict[str, Any], event: SeminarDefined) -> dict[str, Any]:
        return {**state, "title": event.title}

    @on(SeminarJoined)
    def subscribed(self, state: dict[str, Any], event: SeminarJoined) -> dict[str, Any]:
        return {**state, "students": [*state["students"], event.student_id]}


class Seminars(Projection):
    """One document per course, looked up by whether it has a free place."""

    lookups = {"has_free_places": bool, "title": str}
    batch_size = 50

    @on(SeminarDefined)
    def defined(self, docs: Documents, event: SeminarDefined) -> None:
        docs.put(event.course_id, {
            "title": event.title, "capacity": event.capacity, "students": 0,
            "has_free_places": True,
        })

    @on(SeminarJoined)
    def joined(self, docs: Documents, event: SeminarJoined) -> None:
        course = docs.get(event.course_id)
        if course is None:
            raise LookupError(f"no course {event.course_id!r}")
        students = course["students"] + 1
        docs.put(event.course_id, {
            **course, "students": students, "has_free_places": students < course["capacity"],
        })
