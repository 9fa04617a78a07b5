"""The Fairway side of bench/http.py, run inside a child process set up with
``bench._http_fairway_site``: seed the store, check its rules, time its layers.

The store is seeded through the example slices' own commands (``DefineCourse``,
``RegisterStudent``) with ``run_command``, as the product's API would; the rules are checked on
the raw log (types and JSON data), so the check does not trust the code it checks.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bench._http_world import World, violations
from bench._timing import race

if TYPE_CHECKING:
    from fairway_django.dcb import Position
    from fairway_django.engine import Transaction

#: The layer costs' raw appends store what the slice's event would be stored as.
SUBSCRIBED = "StudentSubscribedToCourse"
UNSUBSCRIBED = "StudentUnsubscribedFromCourse"


def seed(world: World, store_url: str) -> None:
    """Define every course and register every student, one command each."""
    from fairway_django.dcb import open_store
    from fairway_django.framework import run_command
    from slices.define_course import DefineCourse
    from slices.register_student import RegisterStudent

    with open_store(store_url) as store:
        for i in range(world.courses):
            course = {"course_id": world.course_id(i), "title": f"Course {i}"}
            run_command(DefineCourse, {**course, "capacity": world.capacity(i)}, store=store)
        for i in range(world.students):
            student_id = world.student_id(i)
            student = {"student_id": student_id, "username": student_id, "name": f"Student {i}"}
            run_command(RegisterStudent, student, store=store)


def check(world: World) -> tuple[int, list[str]]:
    """(subscriptions standing, rules broken), read from the store's log in order."""
    from fairway_django.dcb import Query, QueryItem
    from fairway_django.store import get_store
    from slices import events

    store = get_store()
    subscribed = events.StudentSubscribedToCourse.event_type
    unsubscribed = events.StudentUnsubscribedFromCourse.event_type
    sized = (events.CourseDefined.event_type, events.CourseCapacityChanged.event_type)
    capacities: dict[str, int] = {}
    for _, event in store.read(Query([QueryItem(types=sized)])):
        data = json.loads(event.data)
        capacities[data["course_id"]] = data["capacity"]

    def changes() -> Iterator[tuple[str, str, bool]]:
        for _, event in store.read(Query([QueryItem(types=(subscribed, unsubscribed))])):
            data = json.loads(event.data)
            yield data["course_id"], data["student_id"], event.type == subscribed

    listed = list(changes())
    standing = sum(1 if subscribed else -1 for _, _, subscribed in listed)
    return standing, violations(capacities, listed)


def layers(
    world: World, scratch: Path, durability: str, token: str, seconds: float, rounds: int
) -> list[tuple[str, float, str]]:
    """What one subscribe costs at each layer, in this process: (layer, µs per op, note)."""
    from rest_framework.test import APIClient

    from fairway_django.dcb import AppendCondition, Event, Query, QueryItem, open_store
    from fairway_django.engine import open_engine
    from fairway_django.framework import Rejected, run_command
    from fairway_django.store import get_store
    from slices.subscribe_student import SubscribeStudentToCourse

    suffix = "" if durability == "normal" else f"?durability={durability}"
    engine = open_engine(f"embedded://{scratch / 'layer-engine'}{suffix}")
    events = open_store(f"embedded://{scratch / 'layer-events'}{suffix}")
    store = get_store()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    pick = pairs(world)
    commands: Counter[str] = Counter()
    statuses: Counter[str] = Counter()

    def get_set(tr: Transaction) -> None:
        tr.get(b"bench/counter")
        tr.set(b"bench/counter", b"1")

    def transaction() -> int:
        engine.transact(get_set)
        return 1

    last: Position | None = None

    def append() -> int:
        nonlocal last
        course, student = pick()
        query = Query([QueryItem(types=(SUBSCRIBED, UNSUBSCRIBED), tags=(f"course:{course}",))])
        data = json.dumps({"course_id": course, "student_id": student}).encode()
        event = Event(SUBSCRIBED, data, (f"course:{course}", f"student:{student}"))
        last = events.append([event], AppendCondition(query, last))
        return 1

    def command() -> int:
        course, student = pick()
        try:
            run_command(
                SubscribeStudentToCourse, {"course_id": course, "student_id": student}, store=store
            )
            commands["ok"] += 1
        except Rejected as rejection:
            commands[rejection.code] += 1
        return 1

    def view(path: str, statuses: Counter[str]) -> Callable[[], int]:
        def post() -> int:
            course, student = pick()
            response = client.post(path.format(course), {"student_id": student}, format="json")
            statuses[str(response.status_code)] += 1
            return 1

        return post

    names = [
        "engine transaction (get + set, commit)",
        "event store append with a condition",
        "run_command(SubscribeStudentToCourse)",
        "DRF view, whole request (APIClient)",
        "DRF view doing nothing (APIClient)",
    ]
    ops = [
        transaction,
        append,
        command,
        view("/api/courses/{}/subscriptions", statuses),
        view("/bench/nothing/{}", Counter()),
    ]
    try:
        rates = race(seconds, rounds, ops)
    finally:
        engine.close()
        events.close()
    notes = ["", "", summary(commands), "HTTP " + summary(statuses), "token auth, no store access"]
    return [(n, r.micros_per_op, note) for n, r, note in zip(names, rates, notes, strict=True)]


def pairs(world: World, seed: int = 7) -> Callable[[], tuple[str, str]]:
    """A random (course, student) each call, the same sequence in every process."""
    rng = random.Random(seed)
    return lambda: (
        world.course_id(rng.randrange(world.courses)),
        world.student_id(rng.randrange(world.students)),
    )


def summary(outcomes: Counter[str]) -> str:
    return ", ".join(f"{code} {count:,}" for code, count in outcomes.most_common())
