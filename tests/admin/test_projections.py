"""The projections page through Django's test client: status, actions, permissions, documents."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.test import Client

from fairway_django.dcb import DcbStore
from fairway_django.framework import Documents, Projection, on, registry
from fairway_django.framework.codec import encode
from fairway_django.framework.generations import Generations
from fairway_django.framework.projector import ProjectionFailed, catch_up
from slices.course_list import CourseList
from slices.events import CourseDefined

PROJECTIONS = "/admin/fairway/projection/"


class Picky(Projection):
    """Fails on the course called "poison", as a handler with a bug would."""

    @on(CourseDefined)
    def defined(self, docs: Documents, event: CourseDefined) -> None:
        if event.title == "poison":
            raise ValueError("cannot digest poison")
        docs.put(event.course_id, {"title": event.title})


@pytest.fixture
def picky() -> Iterator[type[Picky]]:
    with registry.temporarily(Picky):
        yield Picky


def define(store: DcbStore, *titles: str) -> None:
    store.append([
        encode(CourseDefined(course_id=f"c{n}", title=title, capacity=2))
        for n, title in enumerate(titles)
    ])


def row(page: object, name: str) -> str:
    text = page.content.decode()  # type: ignore[attr-defined]
    found = re.search(rf'<tr class="projection" data-name="{name}".*?</tr>', text, re.S)
    assert found is not None, f"no row for {name}"
    return html.unescape(found.group(0))


def test_lag_checkpoint_and_projections_never_started(
    admin_client: Client, store: DcbStore
) -> None:
    define(store, "a", "b")
    never = row(admin_client.get(PROJECTIONS), "course_list")
    assert "not started" in never and "2 events" in never
    catch_up(CourseList, store)
    define(store, "c", "d", "e")
    started = row(admin_client.get(PROJECTIONS), "course_list")
    assert "3 events" in started and "no runner" in started and "serving" in started
    checkpoint = Generations(store, "course_list")
    assert str(store.database.transact(lambda tr: checkpoint.checkpoint(tr, 1))) in started


def test_a_failure_is_shown_and_its_event_skipped(
    admin_client: Client, store: DcbStore, picky: type[Picky]
) -> None:
    define(store, "fine", "poison", "fine too")
    with pytest.raises(ProjectionFailed):
        catch_up(Picky, store)
    failed = row(admin_client.get(PROJECTIONS), "picky")
    poison = str(list(store.read())[1].position)
    assert "failed" in failed and "cannot digest poison" in failed
    assert f"/admin/fairway/event/{poison}/" in failed and "Skip failed event" in failed

    confirm = admin_client.get(f"{PROJECTIONS}picky/1/skip/")
    assert confirm.status_code == 200
    assert f"Skip the CourseDefined event at {poison}" in html.unescape(confirm.content.decode())
    done = admin_client.post(f"{PROJECTIONS}picky/1/skip/", follow=True)
    assert f"skipped the CourseDefined event at {poison}" in done.content.decode()
    assert catch_up(Picky, store) == 1  # "fine too"; the poison stays skipped
    entry = LogEntry.objects.get()
    assert entry.object_id == "picky" and "skipped" in entry.change_message
    assert entry.user.username == "root"


def test_rebuild_then_drop_the_old_generation(admin_client: Client, store: DcbStore) -> None:
    define(store, "a")
    catch_up(CourseList, store)
    assert "Rebuild" in row(admin_client.get(PROJECTIONS), "course_list")
    confirm = admin_client.get(f"{PROJECTIONS}course_list/rebuild/")
    assert "Rebuild course_list from the start of the log?" in confirm.content.decode()
    admin_client.post(f"{PROJECTIONS}course_list/rebuild/")
    generations = Generations(store, "course_list")
    catalog = store.database.transact(lambda tr: generations.catalog(tr))
    assert [(g.number, g.state) for g in catalog.generations] == [(1, "serving"), (2, "building")]
    again = admin_client.post(f"{PROJECTIONS}course_list/rebuild/", follow=True)
    assert "already building" in again.content.decode()  # refused, said, not logged

    catch_up(CourseList, store)  # builds generation 2 and switches reads to it
    page = admin_client.get(PROJECTIONS)
    assert f"{PROJECTIONS}course_list/1/drop/" in page.content.decode()
    assert admin_client.post(f"{PROJECTIONS}course_list/2/drop/", follow=True).status_code == 200
    admin_client.post(f"{PROJECTIONS}course_list/1/drop/")
    catalog = store.database.transact(lambda tr: generations.catalog(tr))
    assert [(g.number, g.state) for g in catalog.generations] == [(2, "serving")]
    assert [entry.change_message.split(":")[0] for entry in LogEntry.objects.order_by("pk")] == [
        "course_list", "course_list",
    ]


def test_a_read_only_user_browses_but_cannot_act(
    support_client: Client, store: DcbStore
) -> None:
    define(store, "a")
    catch_up(CourseList, store)
    page = support_client.get(PROJECTIONS)
    assert page.status_code == 200 and "Rebuild" not in page.content.decode()
    assert support_client.get(f"{PROJECTIONS}course_list/rebuild/").status_code == 403
    assert support_client.post(f"{PROJECTIONS}course_list/rebuild/").status_code == 403
    assert support_client.post(f"{PROJECTIONS}course_list/1/skip/").status_code == 403
    assert LogEntry.objects.count() == 0
    assert support_client.get(f"{PROJECTIONS}course_list/documents/").status_code == 200


def test_documents_by_key_and_by_lookup(admin_client: Client, store: DcbStore) -> None:
    store.append([
        encode(CourseDefined(course_id=f"c{n:03}", title=f"T{n}", capacity=1)) for n in range(60)
    ])
    catch_up(CourseList, store)
    url = f"{PROJECTIONS}course_list/documents/"
    one = admin_client.get(f"{url}?key=c007").content.decode()
    assert "c007" in one and "&quot;title&quot;: &quot;T7&quot;" in one
    first = admin_client.get(f"{url}?has_free_places=true").content.decode()
    assert first.count("<pre class=\"data\">") == 50
    following = html.unescape(re.search(r'<a href="([^"]*)" class="older"', first).group(1))
    assert admin_client.get(f"{url}{following}").content.decode().count('<pre class="data">') == 10
    none = admin_client.get(f"{url}?has_free_places=false").content.decode()
    assert "No documents found." in none


@pytest.mark.parametrize(("query", "message"), [
    ("key=" + "k" * 300, "at most 250 characters"),
    ("has_free_places=maybe", "has_free_places"),
])
def test_bad_document_filters(
    admin_client: Client, store: DcbStore, query: str, message: str
) -> None:
    catch_up(CourseList, store)
    page = admin_client.get(f"{PROJECTIONS}course_list/documents/?{query}")
    assert page.status_code == 400 and message in page.content.decode()


def test_unknown_projections_and_generations(admin_client: Client, store: DcbStore) -> None:
    assert admin_client.get(f"{PROJECTIONS}no_such/documents/").status_code == 404
    assert admin_client.get(f"{PROJECTIONS}no_such/rebuild/").status_code == 404
    missing = admin_client.post(f"{PROJECTIONS}course_list/9/drop/", follow=True)
    assert "ourse_list has no generation 9" in missing.content.decode()  # capfirst
    refused = admin_client.get(f"{PROJECTIONS}course_list/drop/")
    assert refused.status_code == 400 and "is in the code" in refused.content.decode()


def test_the_command_line_skips_as_the_admin_does(store: DcbStore, picky: type[Picky]) -> None:
    define(store, "poison", "fine")
    with pytest.raises(ProjectionFailed):
        catch_up(Picky, store)
    out = StringIO()
    call_command("skip_projection_event", "picky", stdout=out)
    assert "picky@1: skipped the CourseDefined event at" in out.getvalue()
    assert catch_up(Picky, store) == 1
    with pytest.raises(CommandError, match="no generation of 'picky' has a failed event"):
        call_command("skip_projection_event", "picky")
