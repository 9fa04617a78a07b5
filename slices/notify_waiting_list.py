"""When a course becomes full, tell the students on its waiting list: an automation.

Any event that can leave a course full (a subscription, a smaller capacity, a student joining
the waiting list of a full course) becomes a job keyed by the course, so a course's jobs run in
order. The job runs ``NotifyWaitingList``, which decides from the log whether the course is full
and who on its waiting list has not been told yet, and appends the outbox record
``WaitingListNotified``, with the job's idempotency key: a job that runs again (a retry, a
worker that died after appending) appends it at most once. Whatever delivers the messages reads
those records.

``SLICES_NOTIFY_FAILURE_RATE`` (a setting, from the environment; 0 by default) makes a share of
the jobs fail before they append, as a flaky notification service would, to show retries with
backoff and, when every attempt fails, the dead-letter queue.
"""

from __future__ import annotations

import random

from django.conf import settings

from fairway_django.framework import (
    Automation, Backoff, Command, Job, Reader, RunningJob, on, run_command,
)

from .events import (
    CourseCapacityChanged, CourseDefined, StudentJoinedWaitingList, StudentSubscribedToCourse,
    WaitingListNotified,
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


class WaitingListNotifier(Automation):
    retry = Backoff(attempts=3, initial=1.0, maximum=10.0)

    @on(StudentSubscribedToCourse, CourseCapacityChanged, StudentJoinedWaitingList)
    def may_be_full(
        self, event: StudentSubscribedToCourse | CourseCapacityChanged | StudentJoinedWaitingList
    ) -> Job:
        return Job(event.course_id, {"course_id": event.course_id})

    def perform(self, job: RunningJob) -> None:
        if random.random() < settings.SLICES_NOTIFY_FAILURE_RATE:  # noqa: S311 (a simulation)
            raise ConnectionError("the notification service did not answer (simulated)")
        run_command(
            NotifyWaitingList, {"course_id": job.data["course_id"]}, store=job.store,
            idempotency_key=job.idempotency_key,
        )
