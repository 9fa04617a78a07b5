"""The admin in a real browser: Debian's Chromium driven by Playwright, against gunicorn.

The site runs as it is deployed (gunicorn serving the project, runners as ``manage.py``
subprocesses, one embedded store); the test process only seeds events into that store. Playwright
runs in a fixture of this module, so its event loop is gone before any other test module uses
Django's ORM in this process.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from fairway_django.dcb import open_store
from fairway_django.framework.codec import encode
from fairway_django.framework.jobs import JobQueue
from slices.events import (
    CourseDefined,
    StudentJoinedWaitingList,
    StudentRegistered,
    StudentSubscribedToCourse,
)
from slices.waiting_list_notifier import WaitingListNotifier
from tests.gunicorn import ROOT, gunicorn, server_env
from tests.runners.process import ManagePy, run, wait_until

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless Chromium on a machine without network or display (see docs/testing.md).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "browser-password"

#: Migrates, then creates a superuser ``root`` and a read-only support user ``support``.
MAKE_USERS = f"""
import django
django.setup()
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
User.objects.create_superuser("root", "root@example.com", {PASSWORD!r})
support = User.objects.create_user("support", password={PASSWORD!r}, is_staff=True)
support.user_permissions.set(Permission.objects.filter(
    content_type__app_label="fairway",
    codename__in=["view_event", "view_projection", "view_automation"],
))
"""

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)",
    ),
]


@dataclass
class Site:
    url: str
    env: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """gunicorn over a store holding 130 courses, two students and a full course with a
    waiting list, whose two notification jobs have failed into the dead-letter queue."""
    tmp = tmp_path_factory.mktemp("browser")
    env = server_env(tmp, SLICES_NOTIFY_FAILURE_RATE="1")
    setup = subprocess.run(
        [sys.executable, "-c", MAKE_USERS], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert setup.returncode == 0, setup.stderr
    with open_store(env["FAIRWAY_STORE_URL"]) as store:
        store.append([
            encode(CourseDefined(course_id=f"c{n}", title=f"Course {n}", capacity=5))
            for n in range(130)
        ])
        store.append([
            encode(CourseDefined(course_id="full", title="Full course", capacity=1)),
            encode(StudentRegistered(student_id="s1", username="ann", name="Ann")),
            encode(StudentRegistered(student_id="s2", username="bob", name="Bob")),
            encode(StudentSubscribedToCourse(course_id="full", student_id="s1")),
            encode(StudentJoinedWaitingList(course_id="full", student_id="s2")),
        ])
        # Projectors once: course_list starts, then more events give it a lag to show.
        projected = run(env, "run_projectors", "--once")
        assert projected.returncode == 0, projected.stderr
        store.append([
            encode(CourseDefined(course_id=f"late{n}", title="Late", capacity=2))
            for n in range(7)
        ])
        # Every notification attempt fails: run the automations until the job is dead.
        failing = ManagePy(env, tmp / "failing.log", "run_automations")
        try:
            queue = JobQueue(store, WaitingListNotifier)
            wait_until(
                lambda: (stats := queue.stats()).dead == 2 and stats.queued == 0, timeout=90,
                what="both of the full course's jobs in the dead-letter queue",
            )
        finally:
            failing.signal(signal.SIGTERM)
            failing.wait()
    working = ManagePy(
        {**env, "SLICES_NOTIFY_FAILURE_RATE": "0"}, tmp / "automations.log", "run_automations"
    )
    try:
        with gunicorn(env, tmp / "gunicorn.log", workers=2) as url:
            yield Site(url, env, tmp)
    finally:
        working.signal(signal.SIGTERM)
        working.wait()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def logged_in(browser: Browser, site: Site, username: str) -> Page:
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site.url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    follow(page, "input[type=submit]")
    page.wait_for_selector("#content-main")
    return page


def follow(page: Page, selector: str) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def positions(page: Page) -> list[str]:
    return page.locator("#result_list td.position a").all_inner_texts()


def test_browse_filter_page_and_follow_a_tag(browser: Browser, site: Site) -> None:
    page = logged_in(browser, site, "root")
    follow(page, "text=Events")  # the app list on the admin's index
    page.wait_for_selector("#result_list")
    first = positions(page)
    assert len(first) == 50 and first == sorted(first, reverse=True)
    assert page.locator(".chart svg rect").count() >= 1  # drawn from the newest events

    follow(page, "a.older")
    second = positions(page)
    assert "before=" in page.url and len(second) == 50 and second[0] < first[-1]
    follow(page, "a.older")
    follow(page, "a.newer")
    assert positions(page) == second
    follow(page, "a.newer")
    assert positions(page) == first

    follow(page, "#changelist-filter >> text=StudentRegistered")
    assert "type=StudentRegistered" in page.url
    assert page.locator("#result_list tbody tr").count() == 2

    page.goto(f"{site.url}/admin/fairway/event/")
    page.fill("#id_tag_prefix", "student:")
    follow(page, "form.filters input[type=submit]")
    assert set(page.locator("#result_list td:nth-child(2)").all_inner_texts()) == {
        "StudentRegistered", "StudentSubscribedToCourse", "StudentJoinedWaitingList",
    }

    follow(page, "#result_list td.position a >> nth=0")  # the newest: the waiting-list event
    page.wait_for_selector("pre.decoded")
    assert '"student_id": "s2"' in page.inner_text("pre.decoded")
    follow(page, ".tags >> text=course:full")
    assert "tag=course%3Afull" in page.url or "tag=course:full" in page.url
    assert page.locator("#result_list td:nth-child(2)").all_inner_texts() == [
        "StudentJoinedWaitingList", "StudentSubscribedToCourse", "CourseDefined",
    ]


def test_a_projection_with_lag(browser: Browser, site: Site) -> None:
    page = logged_in(browser, site, "root")
    page.goto(f"{site.url}/admin/fairway/projection/")
    row = page.locator("tr.projection[data-name=course_list]")
    assert re.match(r"7 events", row.locator("td.lag").inner_text())
    assert row.locator("text=Rebuild").count() == 1


def test_replay_a_dead_letter_and_see_it_run(browser: Browser, site: Site) -> None:
    page = logged_in(browser, site, "root")
    page.goto(f"{site.url}/admin/fairway/automation/waiting_list_notifier/")
    letter = page.locator("tr.dead-letter").first
    position = letter.get_attribute("data-position")
    assert "did not answer" in letter.inner_text()
    with page.expect_navigation():
        letter.locator("input[value=Replay]").click()
    assert "replayed the dead letter" in page.inner_text(".messagelist")
    # The runner started with a working notification service runs it: the outbox event.
    for _ in range(100):
        page.goto(f"{site.url}/admin/fairway/event/?type=WaitingListNotified")
        if page.locator("#result_list td.position a").count():
            break
        page.wait_for_timeout(200)
    assert page.locator("#result_list td.position a").count() == 1
    page.goto(f"{site.url}/admin/fairway/automation/waiting_list_notifier/")
    assert page.locator(f"tr.dead-letter[data-position='{position}']").count() == 0
    assert page.locator("tr.dead-letter").count() == 1


def test_a_support_user_sees_no_action(browser: Browser, site: Site) -> None:
    page = logged_in(browser, site, "support")
    page.goto(f"{site.url}/admin/fairway/projection/")
    assert page.locator("tr.projection").count() >= 1
    assert page.locator("text=Rebuild").count() == 0
    page.goto(f"{site.url}/admin/fairway/automation/waiting_list_notifier/")
    assert page.locator("input[value=Replay]").count() == 0
    assert page.locator("text=Discard").count() == 0
    page.goto(f"{site.url}/admin/fairway/projection/course_list/rebuild/")
    assert "403" in page.title() or page.locator("text=Forbidden").count() >= 1

