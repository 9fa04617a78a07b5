"""``Idempotency-Key``: repeats replay the first response; races wait for it; in one process
with APIClient, then with real concurrent requests (threads on a live server, and two gunicorn
worker processes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer
from rest_framework.test import APIClient

from fairway_django.framework import run_command
from fairway_django.rest.idempotency import Claimed, IdempotencyKeys, Scope, fingerprint
from fairway_django.store import get_database, get_store

from ..gunicorn import gunicorn as serve
from ..gunicorn import server_env
from .notes import AddNote, AddNoteSlowly

KEY = {"Idempotency-Key": "3b1e6a9c-4f55-4c1e-9d0e-2f7d8a4b6c01"}
REPLAYED = "Idempotent-Replayed"


def post(client: APIClient, path: str, body: dict[str, Any], key: str = KEY["Idempotency-Key"]
         ) -> Any:
    return client.post(path, body, format="json", headers={"Idempotency-Key": key})


def event_count() -> int:
    return len(list(get_store().read()))


def test_a_repeat_replays_the_first_response_without_running_the_command(
    client: APIClient,
) -> None:
    first = post(client, "/api/notes/n1", {"text": "x"})
    again = post(client, "/api/notes/n1", {"text": "x"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert event_count() == 1


def test_keys_are_per_user(client: APIClient, notes: None) -> None:
    post(client, "/api/slow-notes/n1", {"text": "x", "seconds": 0})
    other = APIClient()  # anonymous: another scope, so the same key runs the command again

    response = post(other, "/api/slow-notes/n2", {"text": "x", "seconds": 0})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert event_count() == 2


def test_keys_are_per_slice(client: APIClient) -> None:
    post(client, "/api/notes/n1", {"text": "x"})

    response = post(client, "/api/notes/n1/archive", {})

    assert response.status_code == 201
    assert response.json()["events"][0]["type"] == "NoteArchived"


def test_a_rejection_is_replayed_too(client: APIClient) -> None:
    client.post("/api/notes/n1", {"text": "x"}, format="json")
    first = post(client, "/api/notes/n1", {"text": "x"})
    again = post(client, "/api/notes/n1", {"text": "x"})

    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() == {
        "code": "note_exists", "detail": "There is a note 'n1' already.",
    }
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_consistency_conflict_frees_the_key_for_a_retry(client: APIClient) -> None:
    first = post(client, "/api/racing-notes/n1", {})
    again = post(client, "/api/racing-notes/n1", {})

    assert first.status_code == again.status_code == 409
    assert "Idempotent-Replayed" not in again.headers  # it ran again
    assert event_count() == 2  # each run's rival appended


def test_the_same_key_with_another_body_answers_422(client: APIClient) -> None:
    post(client, "/api/notes/n1", {"text": "x"})

    response = post(client, "/api/notes/n1", {"text": "changed"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert event_count() == 1


@pytest.mark.parametrize("key", ["", "has space", "é", "k" * 201])
def test_a_malformed_key_answers_400(client: APIClient, key: str) -> None:
    response = post(client, "/api/notes/n1", {"text": "x"}, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert event_count() == 0


def test_the_longest_key_is_accepted(client: APIClient) -> None:
    assert post(client, "/api/notes/n1", {"text": "x"}, key="k" * 200).status_code == 201


def test_a_replay_outlives_nothing_past_the_ttl(client: APIClient) -> None:
    with override_settings(FAIRWAY={**settings.FAIRWAY, "IDEMPOTENCY_KEY_TTL": 0.2}):
        post(client, "/api/notes/n1", {"text": "x"})
        time.sleep(0.3)
        again = post(client, "/api/notes/n1", {"text": "x"})

    assert again.status_code == 409  # ran again: the note exists now
    assert again.json()["code"] == "note_exists"


def test_expired_records_are_pruned(client: APIClient) -> None:
    with override_settings(FAIRWAY={**settings.FAIRWAY, "IDEMPOTENCY_KEY_TTL": 0.1}):
        for n in range(3):
            post(client, f"/api/notes/n{n}", {"text": "x"}, key=f"key-{n}")
        time.sleep(0.2)
        post(client, "/api/notes/last", {"text": "x"}, key="last")

    records = get_database().transact(
        lambda tr: list(tr.get_range_startswith(b"\x02fairway\x00\x02http-idempotency\x00"))
    )
    assert len(records) == 2  # the last request's record and its expiry entry


def crashed_claim(body: dict[str, Any]) -> Claimed:
    """What a request by user 7 leaves behind when its process dies after claiming its key."""
    keys = IdempotencyKeys(get_database(), ttl=60, wait=0, lease=0.1)
    scope = Scope("7", "add_note", KEY["Idempotency-Key"])
    claim = get_database().transact(lambda tr: keys.claim(tr, scope, fingerprint(body)))
    assert isinstance(claim, Claimed)
    return claim


def test_a_crashed_request_frees_its_key_when_its_lease_lapses(client: APIClient) -> None:
    crashed_claim({"text": "x", "note_id": "n1"})
    time.sleep(0.15)

    response = post(client, "/api/notes/n1", {"text": "x"})

    assert response.status_code == 201
    assert event_count() == 1


def test_a_request_that_crashed_after_appending_is_not_appended_twice(client: APIClient) -> None:
    body = {"text": "x", "note_id": "n1"}
    claim = crashed_claim(body)
    first = run_command(AddNote, body, store=get_store(), idempotency_key=claim.command_key)
    time.sleep(0.15)

    response = post(client, "/api/notes/n1", {"text": "x"})

    assert response.status_code == 201
    assert response.json()["position"] == str(first.position)
    assert event_count() == 1


def test_a_live_claim_makes_a_repeat_wait_then_answer_409(client: APIClient) -> None:
    keys = IdempotencyKeys(get_database(), ttl=60, wait=0)  # the default 30 s lease
    scope = Scope("7", "add_note", KEY["Idempotency-Key"])
    get_database().transact(
        lambda tr: keys.claim(tr, scope, fingerprint({"text": "x", "note_id": "n1"}))
    )
    with override_settings(FAIRWAY={**settings.FAIRWAY, "IDEMPOTENCY_WAIT": 0.3}):
        started = time.monotonic()
        response = post(client, "/api/notes/n1", {"text": "x"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert 0.25 < time.monotonic() - started < 3
    assert event_count() == 0


# --- real concurrent requests ----------------------------------------------------------------


def race(base_url: str, note_id: str, seconds: float) -> list[requests.Response]:
    """Two identical requests, the second sent while the first is deciding; returned as
    [the one that ran the command, the other] (on a busy machine the second may claim first).
    """
    url = f"{base_url}/api/slow-notes/{note_id}"
    body = {"text": "x", "seconds": seconds}
    headers = {"Idempotency-Key": f"key-of-{note_id}"}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(requests.post, url, json=body, headers=headers, timeout=30)
        time.sleep(min(0.3, seconds / 3))
        second = pool.submit(requests.post, url, json=body, headers=headers, timeout=30)
        responses = [first.result(), second.result()]
    return sorted(responses, key=lambda r: r.status_code == 409 or REPLAYED in r.headers)


@pytest.fixture
def live_notes(live_server: LiveServer, notes: None) -> str:
    AddNoteSlowly.decisions = 0
    return str(live_server.url)


def test_threads_a_concurrent_repeat_waits_and_gets_the_first_response(live_notes: str) -> None:
    ran, repeat = race(live_notes, "n1", seconds=0.6)

    assert ran.status_code == repeat.status_code == 201
    assert repeat.json() == ran.json()
    assert repeat.headers[REPLAYED] == "true"
    assert AddNoteSlowly.decisions == 1
    assert event_count() == 1


def test_threads_a_concurrent_repeat_answers_409_after_the_wait(live_notes: str) -> None:
    with override_settings(FAIRWAY={**settings.FAIRWAY, "IDEMPOTENCY_WAIT": 0.2}):
        started = time.monotonic()
        ran, repeat = race(live_notes, "n1", seconds=1.5)

    assert ran.status_code == 201
    assert repeat.status_code == 409
    assert repeat.json()["code"] == "idempotency_key_in_use"
    assert AddNoteSlowly.decisions == 1
    assert time.monotonic() - started < 5


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[str]:
    """Two sync workers (one request at a time each) serving the notes on one store."""
    env = server_env(
        tmp_path, DJANGO_SETTINGS_MODULE="tests.rest.server_settings",
        FAIRWAY_IDEMPOTENCY_WAIT="1.0",
    )
    with serve(env, tmp_path / "gunicorn.log", workers=2) as url:
        with override_settings(FAIRWAY={"STORE_URL": env["FAIRWAY_STORE_URL"]}):
            yield url


def test_processes_a_repeat_in_another_worker_waits_or_answers_409(gunicorn: str) -> None:
    # A sync worker serves one request at a time, so the repeat in each race is served by the
    # other worker process while the first still decides.
    ran, repeat = race(gunicorn, "n1", seconds=0.6)
    assert ran.status_code == repeat.status_code == 201
    assert repeat.json() == ran.json()
    assert repeat.headers[REPLAYED] == "true"

    ran, repeat = race(gunicorn, "n2", seconds=2.5)  # longer than the 1 s wait
    assert ran.status_code == 201
    assert repeat.status_code == 409  # a replay, had it been queued behind the first
    assert repeat.json()["code"] == "idempotency_key_in_use"

    assert event_count() == 2
