"""The example domain's events: the facts slices record and the contracts between them.

Every slice reads and appends these classes, so they live in one module of their own rather
than in the slice that first appends them. A tag field names what an event is about
(``course_id`` -> ``course:<id>``); it is what commands select by and what makes their
consistency boundary exactly as wide as the facts they read.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from fairway_django.framework import Event, Tag, upcaster


class CourseDefined(Event):
    schema_version = 2
    course_id: Annotated[str, Tag]
    title: str
    capacity: Annotated[int, Meta(ge=1)]


@upcaster(CourseDefined, from_version=1)
def course_defined_v1(data: dict[str, object]) -> dict[str, object]:
    """Version 1 had no capacity; courses then held 10 students."""
    return {**data, "capacity": 10}


class CourseCapacityChanged(Event):
    course_id: Annotated[str, Tag]
    capacity: Annotated[int, Meta(ge=1)]


class StudentRegistered(Event):
    student_id: Annotated[str, Tag]
    # Usernames are unique: registering reads this tag, so two registrations of one username
    # conflict with each other and with nothing else.
    username: Annotated[str, Tag]
    name: str


class StudentSubscribedToCourse(Event):
    course_id: Annotated[str, Tag]
    student_id: Annotated[str, Tag]


class StudentUnsubscribedFromCourse(Event):
    course_id: Annotated[str, Tag]
    student_id: Annotated[str, Tag]


class InvoiceIssued(Event):
    invoice_number: Annotated[int, Tag("invoice"), Meta(ge=1)]
    student_id: Annotated[str, Tag]
    amount_cents: Annotated[int, Meta(ge=1)]
    description: str


class StudentJoinedWaitingList(Event):
    course_id: Annotated[str, Tag]
    student_id: Annotated[str, Tag]


class WaitingListNotified(Event):
    """The outbox record of one notification: which waiting students were told the course is
    full. Appended at most once per job (the automation's idempotency key)."""

    course_id: Annotated[str, Tag]
    student_ids: list[str]
