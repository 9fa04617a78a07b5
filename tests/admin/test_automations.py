"""The automations page through Django's test client: queue, dead letters, actions, access."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from fairway_django.dcb import DcbStore
from fairway_django.framework import Automation, Backoff, Job, RunningJob, on, registry
from fairway_django.framework.jobs import JobQueue
from fairway_django.testing import Scenario
from slices.events import CourseDefined

AUTOMATIONS = "/admin/fairway/automation/"


class Greeter(Automation):
    """Greets each new course; fails while ``broken`` is set, as a service that is down, and
    stops its watcher on a course titled "poison", as a handler with a bug would."""

    broken = True
    greeted: list[str] = []
    retry = Backoff(attempts=1, initial=0.01, maximum=0.01)

    @on(CourseDefined)
    def defined(self, event: CourseDefined) -> Job:
        if event.title == "poison":
            raise ValueError("a course no one should greet")
        return Job(event.course_id, {"course_id": event.course_id})

    def perform(self, job: RunningJob) -> None:
        if Greeter.broken:
            raise ConnectionError("the greeting service is down")
        Greeter.greeted.append(job.data["course_id"])


@pytest.fixture
def greeter() -> Iterator[type[Greeter]]:
    Greeter.broken, Greeter.greeted = True, []
    with registry.temporarily(Greeter):
        yield Greeter


def dead_courses(scenario: Scenario, *courses: str) -> list[str]:
    """Define ``courses`` and run their jobs, which all fail: the dead letters' positions."""
    scenario.given(*(CourseDefined(course_id=c, title=c, capacity=1) for c in courses))
    scenario.run_jobs(Greeter)
    return [str(letter.position) for letter in JobQueue(scenario.store, Greeter).dead_letters()]


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def test_the_list_shows_cursor_lag_queue_and_dead_letters(
    admin_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    scenario.given(CourseDefined(course_id="a", title="a", capacity=1))
    before = text(admin_client.get(AUTOMATIONS))
    assert 'data-name="greeter"' in before and "start of the log" in before
    assert '<td class="lag">1 events' in before
    dead_courses(scenario, "b")
    after = text(admin_client.get(AUTOMATIONS))
    assert '<td class="lag">0 events' in after and '<td class="dead">2</td>' in after


def test_replay_one_and_see_it_run(
    admin_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    first, second = dead_courses(scenario, "a", "b")
    page = text(admin_client.get(f"{AUTOMATIONS}greeter/"))
    assert "ConnectionError: the greeting service is down" in page and "Traceback" in page
    assert admin_client.get(f"{AUTOMATIONS}greeter/dead/{first}/replay/").status_code == 405
    Greeter.broken = False
    done = admin_client.post(f"{AUTOMATIONS}greeter/dead/{first}/replay/", follow=True)
    assert f"greeter: replayed the dead letter at {first}" in text(done).lower()
    scenario.run_jobs(Greeter)
    assert Greeter.greeted == ["a"]
    assert [str(d.position) for d in JobQueue(scenario.store, Greeter).dead_letters()] == [second]
    assert LogEntry.objects.get().object_id == "greeter"
    again = admin_client.post(f"{AUTOMATIONS}greeter/dead/{first}/replay/", follow=True)
    assert "no dead letter is at" in text(again)


def test_discard_asks_first(
    admin_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    first, second = dead_courses(scenario, "a", "b")
    confirm = admin_client.get(f"{AUTOMATIONS}greeter/dead/{first}/discard/")
    assert "Its job will never run." in text(confirm) and "Yes, I’m sure" in text(confirm)
    assert len(JobQueue(scenario.store, Greeter).dead_letters()) == 2  # asking changes nothing
    admin_client.post(f"{AUTOMATIONS}greeter/dead/{first}/discard/")
    assert [str(d.position) for d in JobQueue(scenario.store, Greeter).dead_letters()] == [second]


def test_replay_all_and_discard_all(
    admin_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    dead_courses(scenario, "a", "b", "c")
    done = admin_client.post(f"{AUTOMATIONS}greeter/replay-all/", follow=True)
    assert "replayed 3 dead letters" in text(done)
    scenario.run_jobs(Greeter)  # still broken: dead again
    admin_client.post(f"{AUTOMATIONS}greeter/discard-all/")
    stats = JobQueue(scenario.store, Greeter).stats()
    assert (stats.queued, stats.dead) == (0, 0)
    assert LogEntry.objects.count() == 2


def test_a_read_only_user_sees_no_action(
    support_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    (first,) = dead_courses(scenario, "a")
    page = text(support_client.get(f"{AUTOMATIONS}greeter/"))
    assert first in page and "Replay" not in page and "Discard" not in page
    for action in (f"dead/{first}/replay/", f"dead/{first}/discard/", "replay-all/",
                   "discard-all/", "skip/"):
        assert support_client.post(f"{AUTOMATIONS}greeter/{action}").status_code == 403
    assert len(JobQueue(scenario.store, Greeter).dead_letters()) == 1


def test_bad_urls(admin_client: Client, store: DcbStore, greeter: type[Greeter]) -> None:
    assert admin_client.get(f"{AUTOMATIONS}nobody/").status_code == 404
    bad = admin_client.post(f"{AUTOMATIONS}greeter/dead/zz/replay/")
    assert bad.status_code == 400 and "is not a position" in text(bad)
    assert admin_client.get(f"{AUTOMATIONS}greeter/?after=nope").status_code == 400
    nothing = admin_client.post(f"{AUTOMATIONS}greeter/skip/", follow=True)
    assert "has no failed event to skip" in text(nothing)


def test_a_stopped_watcher_and_skipping_its_event(
    admin_client: Client, scenario: Scenario, greeter: type[Greeter]
) -> None:
    scenario.given(CourseDefined(course_id="p", title="poison", capacity=1))
    with pytest.raises(AssertionError, match="its watcher stopped"):
        scenario.run_jobs(Greeter)
    poison = str(next(scenario.store.read()).position)
    page = text(admin_client.get(f"{AUTOMATIONS}greeter/"))
    assert "watcher stopped on the CourseDefined event at" in page
    assert f'href="/admin/fairway/event/{poison}/">{poison}</a>: ValueError' in page
    assert "Skip the failed event" in page
    admin_client.post(f"{AUTOMATIONS}greeter/skip/")
    assert JobQueue(scenario.store, Greeter).stats().failure is None
    assert "skipped the CourseDefined event" in LogEntry.objects.get().change_message
