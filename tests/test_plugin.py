"""The pytest plugin ``fairway_django.testing``: isolated stores, fault runs, given/when/then.

The fixtures' isolation and parametrization are checked by running pytest itself (pytester)
on small test files, also under pytest-xdist; the Scenario's checks are run here, on the
example slices, including that each one fails with a message saying what happened.
"""

from __future__ import annotations

import re
from pathlib import Path
from unittest.mock import ANY

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from fairway_django.dcb import DcbStore
from fairway_django.testing import Scenario
from slices.course import Course
from slices.define_course import DefineCourse
from slices.events import CourseDefined

ROOT = Path(__file__).resolve().parent.parent
ALGEBRA = CourseDefined(course_id="c1", title="Algebra", capacity=3)

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
addopts = -p fairway_django.testing
fairway_faults = 0.2
"""

STORES = """
import pytest
from fairway_django.conf import fairway_settings
from fairway_django.dcb import Event
from fairway_django.store import get_store

@pytest.mark.parametrize("n", range(6))
def test_a_store_of_its_own(fairway_store, n):
    assert fairway_store.head() is None
    assert get_store() is fairway_store
    fairway_store.append([Event("Noted", b"{{}}", tags=[f"test:{{n}}"])])
    with open({urls!r}, "a") as urls:
        urls.write(fairway_settings.STORE_URL + "\\n")
"""

FAULTS = """
import pytest
from fairway_django.conf import fairway_settings

def test_twice(fairway, fairway_faults):
    assert fairway.store.database.faults.rate == fairway_faults
    assert ("faults=0.2" in fairway_settings.STORE_URL) == (fairway_faults == 0.2)

@pytest.mark.fairway_faults(0)
def test_plain_only(fairway):
    assert fairway.store.database.faults.rate == 0

@pytest.mark.fairway_faults(0.5)
def test_at_its_own_rate(fairway, fairway_faults):
    assert fairway.store.database.faults.rate == fairway_faults

def test_once_without_the_scenario(fairway_store):
    assert fairway_store.database.faults.rate == 0
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest project using the plugin, with the example project's settings."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini(INI)
    return pytester


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_every_test_gets_an_empty_store_of_its_own(
    project: pytest.Pytester, workers: list[str]
) -> None:
    urls = project.path / "urls.txt"
    project.makepyfile(test_stores=STORES.format(urls=str(urls)))
    result = project.runpytest_subprocess(*workers)
    result.assert_outcomes(passed=6)
    stores = urls.read_text().split()
    assert len(set(stores)) == 6
    assert all(url.startswith("embedded:///") and "durability=none" in url for url in stores)


def test_tests_using_the_scenario_also_run_with_faults(project: pytest.Pytester) -> None:
    project.makepyfile(test_faults=FAULTS)
    result = project.runpytest_subprocess("-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines_random([
        "*::test_twice[[]plain[]] PASSED*",
        "*::test_twice[[]faults[]] PASSED*",
        "*::test_plain_only PASSED*",
        "*::test_at_its_own_rate[[]plain[]] PASSED*",
        "*::test_at_its_own_rate[[]faults[]] PASSED*",
        "*::test_once_without_the_scenario PASSED*",
    ])


def test_a_bad_fault_rate_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeini(INI.replace("0.2", "1.5"))
    project.makepyfile(test_faults="def test_it(fairway): pass")
    result = project.runpytest_subprocess()
    result.stderr.fnmatch_lines(["*fairway_faults must be a rate from 0 to 1, not '1.5'*"])


def test_given_appends_events_with_their_tags(fairway: Scenario) -> None:
    fairway.given(ALGEBRA)
    [stored] = [event for _, event in fairway.store.read()]
    assert (stored.type, stored.tags) == ("CourseDefined", ("course:c1",))


def test_then_says_what_was_appended_and_what_was_expected(fairway: Scenario) -> None:
    fairway.when(DefineCourse, course_id="c1", title="Algebra", capacity=3)
    fairway.then(ALGEBRA)
    with pytest.raises(AssertionError, match=r"^then\(\): when\(DefineCourse\) appended "
                       r"\[CourseDefined\(.*capacity=3\)\], expected \[CourseDefined\(.*=4\)\]$"):
        fairway.then(CourseDefined(course_id="c1", title="Algebra", capacity=4))
    with pytest.raises(AssertionError, match=r"appended \[CourseDefined.*\], expected nothing"):
        fairway.then_nothing()
    with pytest.raises(AssertionError, match=r"when\(DefineCourse\) succeeded and appended"):
        fairway.then_rejected("course_exists")


def test_a_rejection_is_an_outcome_then_rejected_checks(fairway: Scenario) -> None:
    fairway.given(ALGEBRA)
    fairway.when(DefineCourse, course_id="c1", title="Geometry", capacity=5)
    fairway.then_rejected("course_exists")
    assert fairway.rejection is not None and fairway.appended == []
    message = re.escape("when(DefineCourse) was rejected with 'course_exists': Course 'c1' is")
    with pytest.raises(AssertionError, match=r"^then_rejected\('course_full'\): " + message):
        fairway.then_rejected("course_full")
    with pytest.raises(AssertionError, match=r"^then\(\): " + message):
        fairway.then(ALGEBRA)


def test_checks_before_a_when_say_to_call_it(fairway: Scenario) -> None:
    with pytest.raises(AssertionError, match=r"call when\(\) or when_request\(\) first"):
        fairway.then_nothing()
    with pytest.raises(AssertionError, match=r"call when_request\(\) first"):
        fairway.then_status(200)


def test_then_view_compares_the_whole_state(fairway: Scenario) -> None:
    fairway.given(ALGEBRA)
    state = {"course_id": "c1", "title": "Algebra", "capacity": 3, "subscribers": []}
    fairway.then_view(Course, state, course_id="c1")
    with pytest.raises(AssertionError, match=r"^then_view\(Course\): the state is \{.*\}, "
                       r"expected \{.*'capacity': 4.*\}$"):
        fairway.then_view(Course, {**state, "capacity": 4}, course_id="c1")


def test_a_request_acts_as_the_scenario_user_and_its_events_count(fairway: Scenario) -> None:
    fairway.when_request(
        "POST", "/api/courses", {"course_id": "c1", "title": "Algebra", "capacity": 3}
    )
    fairway.then_status(201, {"position": ANY, "correlation_id": ANY, "events": ANY})
    fairway.then(ALGEBRA)
    with pytest.raises(AssertionError, match=r"^then_status\(200\): when_request\(POST "
                       r"/api/courses\) answered 201 \{'position': "):
        fairway.then_status(200)


def test_a_request_can_be_anonymous_and_then_is_refused(fairway: Scenario) -> None:
    fairway.when_request(
        "POST", "/api/courses", {"course_id": "c1", "title": "Algebra", "capacity": 3},
        user=AnonymousUser(),
    )
    fairway.then_status(401)
    assert fairway.appended == []


def test_the_client_is_logged_in_on_the_test_store(
    fairway_client: APIClient, fairway_store: DcbStore
) -> None:
    response = fairway_client.post(
        "/api/courses", {"course_id": "c1", "title": "Algebra", "capacity": 3}, format="json"
    )
    assert response.status_code == 201
    assert fairway_store.head() is not None
    assert response.json()["position"] == str(fairway_store.head())
