"""Registering a student: unique student ids, unique usernames."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .events import StudentRegistered
from .register_student import RegisterStudent

ADA = StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace")


def test_a_student_is_registered(fairway: Scenario) -> None:
    fairway.when(RegisterStudent, student_id="s1", username="ada", name="Ada Lovelace")
    fairway.then(ADA)


def test_a_username_belongs_to_one_student(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(RegisterStudent, student_id="s2", username="ada", name="Ada Byron")
    fairway.then_rejected("username_taken")


def test_a_student_id_is_registered_once(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(RegisterStudent, student_id="s1", username="countess", name="Ada Lovelace")
    fairway.then_rejected("student_exists")


def test_other_usernames_are_free(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(RegisterStudent, student_id="s2", username="grace", name="Grace Hopper")
    fairway.then(StudentRegistered(student_id="s2", username="grace", name="Grace Hopper"))


def test_over_http_a_taken_username_is_a_409_with_its_code(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when_request(
        "POST", "/api/students", {"student_id": "s2", "username": "ada", "name": "Ada Byron"}
    )
    fairway.then_status(409, {"code": "username_taken", "detail": "The username 'ada' is taken."})
