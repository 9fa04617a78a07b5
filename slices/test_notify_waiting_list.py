"""Telling the waiting list when a course becomes full: the decision, and the automation that
runs it as jobs."""

from __future__ import annotations

import pytest
from django.test import override_settings

from fairway_django.framework import Job
from fairway_django.framework.jobs import JobQueue
from fairway_django.testing import Scenario

from .events import (
    CourseCapacityChanged, CourseDefined, StudentJoinedWaitingList, StudentSubscribedToCourse,
    WaitingListNotified,
)
from .notify_waiting_list import NotifyWaitingList
from .waiting_list_notifier import WaitingListNotifier

ALGEBRA = CourseDefined(course_id="c1", title="Algebra", capacity=2)


def waiting(student_id: str) -> StudentJoinedWaitingList:
    return StudentJoinedWaitingList(course_id="c1", student_id=student_id)


def subscribed(student_id: str) -> StudentSubscribedToCourse:
    return StudentSubscribedToCourse(course_id="c1", student_id=student_id)


def test_nobody_is_told_while_the_course_has_room(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, waiting("w1"), subscribed("s1"))
    fairway.when(NotifyWaitingList, course_id="c1").then_nothing()


def test_a_full_course_tells_each_waiting_student_once(fairway: Scenario) -> None:
    fairway.given(ALGEBRA, waiting("w1"), subscribed("s1"), subscribed("s2"))
    fairway.when(NotifyWaitingList, course_id="c1")
    fairway.then(WaitingListNotified(course_id="c1", student_ids=["w1"]))
    fairway.given(waiting("w2"))
    fairway.when(NotifyWaitingList, course_id="c1")
    fairway.then(WaitingListNotified(course_id="c1", student_ids=["w2"]))
    fairway.when(NotifyWaitingList, course_id="c1").then_nothing()


def test_every_event_that_can_fill_a_course_becomes_a_job_keyed_by_the_course() -> None:
    notifier = WaitingListNotifier()
    for event in (subscribed("s1"), waiting("w1"), CourseCapacityChanged(course_id="c1",
                                                                         capacity=1)):
        assert notifier.job_for(event) == Job("c1", {"course_id": "c1"})


def test_the_automation_records_the_notification_when_the_course_fills(fairway: Scenario
                                                                        ) -> None:
    fairway.given(ALGEBRA, waiting("w1"), subscribed("s1"))
    fairway.run_jobs(WaitingListNotifier).then_nothing()
    fairway.given(subscribed("s2"))
    fairway.run_jobs(WaitingListNotifier)
    fairway.then(WaitingListNotified(course_id="c1", student_ids=["w1"]))
    fairway.run_jobs(WaitingListNotifier).then_nothing()  # nothing new, nothing appended


@pytest.mark.fairway_faults(0)
def test_a_failing_notification_service_means_retries_then_a_dead_letter(
    fairway: Scenario,
) -> None:
    fairway.given(ALGEBRA, waiting("w1"), subscribed("s1"), subscribed("s2"))
    with override_settings(SLICES_NOTIFY_FAILURE_RATE=1.0):
        fairway.run_jobs(WaitingListNotifier).then_nothing()
    stats = JobQueue(fairway.store, WaitingListNotifier).stats()
    assert stats.queued == 3 and stats.dead == 0  # the first failed, and waits out its backoff
