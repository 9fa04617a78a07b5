"""``GET`` a view: its state, its position, read-your-writes, and its errors."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from fairway_django.framework import run_command
from fairway_django.store import get_store

from .notes import AddNote


def test_a_view_answers_its_state_and_position(client: APIClient) -> None:
    added = client.post("/api/notes/n1", {"text": "hello"}, format="json").json()

    response = client.get("/api/notes/n1")

    assert response.status_code == 200
    assert response.json() == {"note_id": "n1", "text": "hello", "archived": False}
    assert response.headers["Fairway-Position"] == added["position"]


def test_views_are_open_by_default_as_drf_s_defaults_are(anonymous: APIClient) -> None:
    run_command(AddNote, {"note_id": "n1", "text": "x"}, store=get_store())

    assert anonymous.get("/api/notes/n1").status_code == 200


def test_a_view_with_no_events_answers_404(client: APIClient) -> None:
    response = client.get("/api/notes/nothing")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "nothing" in response.json()["detail"]


def test_command_and_view_share_a_route_and_each_has_its_url_name(client: APIClient) -> None:
    assert reverse("fairway:add_note", kwargs={"note_id": "n1"}) == "/api/notes/n1"
    assert reverse("fairway:note", kwargs={"note_id": "n1"}) == "/api/notes/n1"
    assert client.put("/api/notes/n1", {}, format="json").status_code == 405


@pytest.mark.parametrize("where", ["query", "header"])
def test_a_view_reads_your_writes_at_min_position(client: APIClient, where: str) -> None:
    position = client.post("/api/notes/n1", {"text": "x"}, format="json").json()["position"]
    if where == "query":
        response = client.get("/api/notes/n1", {"min_position": position})
    else:
        response = client.get("/api/notes/n1", headers={"Fairway-Min-Position": position})

    assert response.status_code == 200
    assert response.headers["Fairway-Position"] == position


def test_a_view_waits_for_a_write_that_is_on_its_way(client: APIClient) -> None:
    head = client.post("/api/notes/n0", {"text": "x"}, format="json").json()["position"]
    # The next append's position is not known in advance; any position after the head that a
    # later append reaches will do: the head with its last byte raised.
    wanted = head[:-2] + f"{int(head[-2:], 16) + 1:02x}"
    writer = threading.Timer(
        0.3, run_command, (AddNote, {"note_id": "n1", "text": "later"}), {"store": get_store()}
    )
    writer.start()
    started = time.monotonic()

    response = client.get("/api/notes/n1", {"min_position": wanted})

    writer.join()
    assert response.status_code == 200
    assert response.json()["text"] == "later"
    assert 0.25 < time.monotonic() - started < 4


@pytest.mark.parametrize("text", ["nope", "0" * 23, "F" * 24])
def test_a_malformed_min_position_answers_400(client: APIClient, text: str) -> None:
    response = client.get("/api/notes/n1", {"min_position": text})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_position"
    assert "24 lowercase hex digits" in response.json()["detail"]


def test_a_position_the_store_does_not_reach_in_time_answers_412(client: APIClient) -> None:
    with override_settings(FAIRWAY={**settings.FAIRWAY, "MIN_POSITION_TIMEOUT": 0.2}):
        started = time.monotonic()
        response = client.get("/api/notes/n1", {"min_position": "f" * 24})

    assert response.status_code == 412
    assert response.json()["code"] == "not_caught_up"
    assert response.headers["Retry-After"] == "1"
    assert 0.15 < time.monotonic() - started < 3
