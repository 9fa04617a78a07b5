"""The courses and students every variant of bench/http.py starts with, and the rules checked
after each run.

Most courses are large and never fill during a run; every tenth is small and fills within the
first seconds, so a steady share of requests is rejected as ``course_full``, and students
reaching their fifth course add ``too_many_courses``. The same seeds give every variant the
same sequence of requests.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping

MAX_COURSES_PER_STUDENT = 5


@dataclasses.dataclass(frozen=True)
class World:
    courses: int = 1_000
    students: int = 10_000
    small_every: int = 10
    small_capacity: int = 3
    large_capacity: int = 1_000

    def course_id(self, i: int) -> str:
        return f"course-{i:05d}"

    def student_id(self, i: int) -> str:
        return f"student-{i:06d}"

    def capacity(self, i: int) -> int:
        return self.small_capacity if i % self.small_every == 0 else self.large_capacity

    def capacities(self) -> dict[str, int]:
        return {self.course_id(i): self.capacity(i) for i in range(self.courses)}

    def describe(self) -> str:
        small = len(range(0, self.courses, self.small_every))
        return (
            f"{self.courses:,} courses ({small} of capacity {self.small_capacity}, the others"
            f" {self.large_capacity:,}) and {self.students:,} students"
        )


def violations(
    capacities: Mapping[str, int], changes: Iterable[tuple[str, str, bool]]
) -> list[str]:
    """What breaks the rules in ``changes``: (course, student, subscribed?) in commit order.

    A subscription to a course the student is already in is a double subscription; the counts
    are checked after every change, so a course over capacity at any moment is reported.
    """
    members: dict[str, set[str]] = {}
    courses_of: Counter[str] = Counter()
    broken: list[str] = []
    for course, student, subscribed in changes:
        in_course = members.setdefault(course, set())
        if not subscribed:
            if student in in_course:
                in_course.discard(student)
                courses_of[student] -= 1
            continue
        if student in in_course:
            broken.append(f"{student} subscribed twice to {course}")
            continue
        in_course.add(student)
        courses_of[student] += 1
        if len(in_course) > capacities.get(course, 0):
            broken.append(
                f"{course} has {len(in_course)} students, capacity {capacities.get(course, 0)}"
            )
        if courses_of[student] > MAX_COURSES_PER_STUDENT:
            broken.append(f"{student} is in {courses_of[student]} courses")
    return broken
