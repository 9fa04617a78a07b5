"""The event browser through Django's test client: pages, filters, detail, bad input, access."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from fairway_django.admin import event_pages
from fairway_django.dcb import DcbStore
from fairway_django.dcb import Event as StoredEvent
from fairway_django.framework.codec import encode
from slices.events import CourseDefined, StudentRegistered, StudentSubscribedToCourse

EVENTS = "/admin/fairway/event/"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def shown(response: object) -> list[str]:
    """The positions listed on a page, in page order."""
    return re.findall(r'<td class="position"><a href="[^"]*">([0-9a-f]{24})</a>', _text(response))


def link(response: object, css_class: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" class="{css_class}"', _text(response))
    return None if found is None else html.unescape(found.group(1))


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def courses(store: DcbStore, count: int, *, start: datetime = T0, prefix: str = "c") -> None:
    """``count`` CourseDefined events, one a minute from ``start``."""
    store.append([
        encode(
            CourseDefined(course_id=f"{prefix}{n}", title=f"Course {n}", capacity=3),
            occurred_at=start + timedelta(minutes=n),
        )
        for n in range(count)
    ])


def test_pages_go_newest_first_and_back_without_gaps(admin_client: Client, store: DcbStore) -> None:
    courses(store, 120)
    everything = [str(s.position) for s in store.read(backwards=True)]
    first = admin_client.get(EVENTS)
    assert first.status_code == 200
    assert shown(first) == everything[:50] and link(first, "newer") is None
    second = admin_client.get(link(first, "older"))
    third = admin_client.get(link(second, "older"))
    assert shown(second) == everything[50:100] and shown(third) == everything[100:]
    assert link(third, "older") is None
    back = admin_client.get(link(third, "newer"))
    assert shown(back) == everything[50:100]
    assert shown(admin_client.get(link(back, "newer"))) == everything[:50]


def test_a_page_deep_in_the_history_is_read_from_its_cursor(
    admin_client: Client, store: DcbStore
) -> None:
    courses(store, 300)
    oldest = [str(s.position) for s in store.read(limit=11)]
    page = admin_client.get(f"{EVENTS}?before={oldest[10]}")
    assert shown(page) == oldest[:10][::-1]
    assert link(page, "older") is None and link(page, "newer") is not None


def test_filters_by_type_tag_and_tag_prefix(admin_client: Client, store: DcbStore) -> None:
    courses(store, 3)
    store.append([
        encode(StudentRegistered(student_id="s1", username="ann", name="Ann")),
        encode(StudentSubscribedToCourse(course_id="c1", student_id="s1")),
    ])
    by_type = admin_client.get(f"{EVENTS}?type=StudentRegistered")
    assert len(shown(by_type)) == 1 and "StudentRegistered (1)" in _text(by_type)
    assert "CourseDefined (3)" in _text(by_type)
    by_tag = admin_client.get(f"{EVENTS}?tag=course:c1")
    assert len(shown(by_tag)) == 2
    both = admin_client.get(f"{EVENTS}?tag=course:c1&type=CourseDefined")
    assert len(shown(both)) == 1
    by_prefix = admin_client.get(f"{EVENTS}?tag_prefix=student:")
    assert len(shown(by_prefix)) == 2
    assert len(shown(admin_client.get(f"{EVENTS}?tag_prefix=course:"))) == 4


def test_a_tag_prefix_search_stops_and_goes_on(
    admin_client: Client, store: DcbStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append([encode(StudentRegistered(student_id="s1", username="ann", name="Ann"))])
    courses(store, 30)
    monkeypatch.setattr(event_pages, "EXAMINED_PER_PAGE", 10)
    page = admin_client.get(f"{EVENTS}?tag_prefix=username:")
    assert shown(page) == [] and "search further" in _text(page)
    for _ in range(3):
        further = link(page, "search-on")
        if further is None:
            break
        page = admin_client.get(further)
    assert len(shown(page)) == 1 and "type=" not in (further or "")


def test_position_and_time_ranges(admin_client: Client, store: DcbStore) -> None:
    courses(store, 60)  # 09:00 to 09:59
    positions = [str(s.position) for s in store.read()]
    by_position = admin_client.get(f"{EVENTS}?start={positions[5]}&end={positions[9]}")
    assert shown(by_position) == positions[5:10][::-1]
    by_time = admin_client.get(f"{EVENTS}?since=2026-12-01T09:10:00&until=2026-12-01T09:20:00")
    assert shown(by_time) == positions[10:20][::-1]
    after_all = admin_client.get(f"{EVENTS}?since=2026-12-02T00:00:00")
    assert shown(after_all) == [] and "No events match" in _text(after_all)
    before_all = admin_client.get(f"{EVENTS}?until=2026-11-30T00:00:00")
    assert shown(before_all) == []


def test_position_at_finds_the_boundary_in_a_long_log(store: DcbStore) -> None:
    for batch in range(20):
        courses(store, 50, start=T0 + timedelta(hours=batch), prefix=f"b{batch}-")
    every = list(store.read())
    for index in (0, 1, 499, 500, 777, 999):
        moment = event_pages.occurred_at(every[index])
        assert moment is not None
        assert event_pages.position_at(store, moment) == every[index].position
    assert event_pages.position_at(store, T0 + timedelta(days=2)) is None


def test_the_first_page_draws_the_chart(admin_client: Client, store: DcbStore) -> None:
    courses(store, 90)
    first = _text(admin_client.get(EVENTS))
    assert first.count("<rect") == 9  # 09:00 to 10:29 in bars of 10 minutes
    assert "per 10 minutes" in first and "CourseDefined (90)" in first
    assert "<rect" not in _text(admin_client.get(link(admin_client.get(EVENTS), "older")))
    assert "cdn" not in first.lower() and "<script src=\"http" not in first


def test_the_detail_page_shows_the_upcast_data_and_links_the_tags(
    admin_client: Client, store: DcbStore
) -> None:
    # Version 1 of CourseDefined had no capacity; its upcaster fills 10 in.
    old = StoredEvent("CourseDefined", b'{"course_id":"c9","title":"Old"}', ("course:c9",),
                      {"v": "1", "at": T0.isoformat()})
    position = store.append([old])
    page = admin_client.get(f"{EVENTS}{position}/")
    text = html.unescape(_text(page))
    assert page.status_code == 200
    assert "stored at version 1, shown upcast to version 2" in text
    assert '"capacity": 10' in text
    assert f'href="{EVENTS}?tag=course%3Ac9"' in _text(page)
    assert "slices.events.CourseDefined" in text


def test_an_event_no_class_knows_is_shown_raw(admin_client: Client, store: DcbStore) -> None:
    position = store.append([StoredEvent("LegacyThing", b"\xff\x00binary", ("legacy:1",))])
    text = html.unescape(_text(admin_client.get(f"{EVENTS}{position}/")))
    assert "no event class here is registered for 'LegacyThing'" in text
    assert "ff0062" in text.replace(" ", "")  # not UTF-8: shown in hex


@pytest.mark.parametrize(("query", "message"), [
    ("start=xyz", "From position: &#x27;xyz&#x27; is not a position"),
    ("before=00ff", "is not a position"),
    ("type=NoSuchEvent", "NoSuchEvent is not an event type registered here"),
    ("tag=" + "x" * 300, "is longer than a tag can be (256 bytes)"),
    ("tag_prefix=" + "é" * 200, "is longer than a tag can be"),
    ("since=yesterday", "Since: Enter a valid date/time."),
    ("since=2026-12-02T00:00&until=2026-12-01T00:00", "the time range is empty"),
    (f"start={'1' * 24}&end={'0' * 24}", "the position range is empty"),
    (f"before={'1' * 24}&after={'0' * 24}", "either before or after"),
])
def test_bad_filters_say_what_is_wrong(
    admin_client: Client, store: DcbStore, query: str, message: str
) -> None:
    page = admin_client.get(f"{EVENTS}?{query}")
    assert page.status_code == 400
    assert message in _text(page)
    assert "errornote" in _text(page)


def test_bad_positions_in_the_url(admin_client: Client, store: DcbStore) -> None:
    malformed = admin_client.get(f"{EVENTS}not-a-position/")
    assert malformed.status_code == 400 and "is not a position" in _text(malformed)
    missing = admin_client.get(f"{EVENTS}{'0' * 23}1/")
    assert missing.status_code == 404 and "no event is at position" in _text(missing)


def test_the_admin_index_lists_fairway(admin_client: Client, store: DcbStore) -> None:
    text = _text(admin_client.get("/admin/"))
    for page in ("event", "projection", "automation"):
        assert f'href="/admin/fairway/{page}/"' in text


def test_access(client: Client, staff_client: Client, support_client: Client,
                store: DcbStore) -> None:
    courses(store, 1)
    anonymous = client.get(EVENTS)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert staff_client.get(EVENTS).status_code == 403  # staff, but no view permission
    assert support_client.get(EVENTS).status_code == 200
    position = next(store.read()).position
    assert support_client.get(f"{EVENTS}{position}/").status_code == 200


def test_the_browser_never_changes_events(admin_client: Client, store: DcbStore) -> None:
    position = store.append([encode(CourseDefined(course_id="c1", title="T", capacity=1))])
    for url in (EVENTS, f"{EVENTS}{position}/"):
        assert admin_client.post(url).status_code in (403, 405)
    assert admin_client.get(f"{EVENTS}add/").status_code == 400  # "add" is not a position
    assert [s.position for s in store.read()] == [position]
