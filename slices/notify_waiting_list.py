"""Tell the students on a course's waiting list that it is full: record one notification to
those not told yet. Run by the waiting-list notifier (an automation), not over HTTP; the
outbox record ``WaitingListNotified`` is what delivers the messages."""

from __future__ import annotations

from fairway_django.framework import Command, Reader

from .events import (
    CourseCapacityChanged, CourseDefined, StudentJoinedWaitingList, WaitingListNotified,
)
from .subscribe_student import SUBSCRIPTIONS, subscribed


class NotifyWaitingList(Command):
    """Record a notification to the waiting students not told yet, if the course is full."""

    def decide(self, read: Reader, course_id: str) -> WaitingListNotified | None:
        course = read.last(CourseDefined, CourseCapacityChanged, course_id=course_id)
        if course is None:
            return None
        if len(subscribed(read(*SUBSCRIPTIONS, course_id=course_id), "student_id")) < (
            course.capacity
        ):
            return None
        told = {s for notice in read(WaitingListNotified, course_id=course_id)
                for s in notice.student_ids}
        waiting = [e.student_id for e in read(StudentJoinedWaitingList, course_id=course_id)
                   if e.student_id not in told]
        if not waiting:
            return None
        return WaitingListNotified(course_id=course_id, student_ids=waiting)
