"""The ORM side of bench/http.py, run inside a child process set up with
``bench.orm_courses.settings``: seed the tables, check the rules, time the view in-process.

Seeding uses ``bulk_create``, as a data migration or fixture would; the rules are checked on
the subscription rows in the order they were inserted.
"""

from __future__ import annotations

from collections import Counter

from bench._http_fairway import pairs, summary
from bench._http_world import World, violations
from bench._timing import race


def seed(world: World) -> None:
    from bench.orm_courses.models import Course, Student

    Course.objects.bulk_create(
        Course(course_id=world.course_id(i), title=f"Course {i}", capacity=world.capacity(i))
        for i in range(world.courses)
    )
    Student.objects.bulk_create(
        Student(student_id=world.student_id(i), username=world.student_id(i), name=f"Student {i}")
        for i in range(world.students)
    )


def check(world: World) -> tuple[int, list[str]]:
    from bench.orm_courses.models import Course, Subscription

    capacities = dict(Course.objects.values_list("course_id", "capacity"))
    rows = Subscription.objects.order_by("pk").values_list(
        "course__course_id", "student__student_id"
    )
    changes = [(course, student, True) for course, student in rows]
    return len(changes), violations(capacities, changes)


def layers(world: World, token: str, seconds: float, rounds: int) -> list[tuple[str, float, str]]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    pick = pairs(world)
    statuses: Counter[str] = Counter()

    def post() -> int:
        course, student = pick()
        response = client.post(
            f"/api/courses/{course}/subscriptions", {"student_id": student}, format="json"
        )
        statuses[str(response.status_code)] += 1
        return 1

    (rate,) = race(seconds, rounds, [post])
    return [
        ("ORM view, whole request (APIClient)", rate.micros_per_op, "HTTP " + summary(statuses))
    ]
