"""When a course becomes full, tell the students on its waiting list: an automation.

Any event that can leave a course full (a subscription, a smaller capacity, a student joining
the waiting list of a full course) becomes a job keyed by the course, so a course's jobs run in
order. The job runs ``NotifyWaitingList`` with the job's idempotency key: a job that runs again
(a retry, a worker that died after appending) records its notification at most once.

``SLICES_NOTIFY_FAILURE_RATE`` (a setting, from the environment; 0 by default) makes a share of
the jobs fail before they append, as a flaky notification service would, to show retries with
backoff and, when every attempt fails, the dead-letter queue.
"""

from __future__ import annotations

import random

from django.conf import settings

from fairway_django.framework import Automation, Backoff, Job, RunningJob, on, run_command

from .events import CourseCapacityChanged, StudentJoinedWaitingList, StudentSubscribedToCourse
from .notify_waiting_list import NotifyWaitingList


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
