"""``POST`` a command: its input, its answer, and every way it can fail, over real DRF."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from fairway_django.dcb import Position
from fairway_django.framework import select
from fairway_django.store import get_store

from .notes import NoteAdded


def stored_notes(note_id: str) -> list[str]:
    return [event.event.type for event in get_store().read(select(NoteAdded, note_id=note_id).dcb)]


def test_a_command_answers_201_with_its_events(client: APIClient) -> None:
    response = client.post("/api/notes/n1", {"text": "hello"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["position"] == body["events"][0]["position"]
    Position.parse(body["position"])
    assert body["events"] == [
        {
            "type": "NoteAdded",
            "position": body["position"],
            "tags": ["note:n1"],
            "data": {"note_id": "n1", "text": "hello"},
        }
    ]
    stored = next(iter(get_store().read()))
    assert stored.event.metadata["correlation_id"] == body["correlation_id"]


def test_the_url_parameters_win_over_the_body(client: APIClient) -> None:
    response = client.post("/api/notes/n1", {"note_id": "other", "text": "x"}, format="json")

    assert response.json()["events"][0]["data"]["note_id"] == "n1"
    assert stored_notes("other") == []


def test_a_command_without_input_gets_the_url_parameters(client: APIClient) -> None:
    client.post("/api/notes/n1", {"text": "x"}, format="json")

    response = client.post("/api/notes/n1/archive", {"ignored": True}, format="json")

    assert response.status_code == 201
    assert response.json()["events"][0]["data"] == {"note_id": "n1"}


def test_invalid_input_answers_400_with_drf_field_errors(client: APIClient) -> None:
    response = client.post("/api/notes/n1", {"text": ""}, format="json")

    assert response.status_code == 400
    assert response.json() == {"text": ["This field may not be blank."]}
    assert list(get_store().read()) == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [("{not json", "JSON parse error"), ("[1, 2]", "must be a JSON object, not list")],
)
def test_a_body_that_is_not_a_json_object_answers_400_parse_error(
    client: APIClient, body: str, detail: str
) -> None:
    response = client.post("/api/notes/n1", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert detail in response.json()["detail"]


def test_a_declared_rejection_answers_its_status(client: APIClient) -> None:
    client.post("/api/notes/n1", {"text": "x"}, format="json")

    response = client.post("/api/notes/n1", {"text": "y"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "note_exists", "detail": "There is a note 'n1' already."}
    assert stored_notes("n1") == ["NoteAdded"]


def test_an_undeclared_rejection_answers_422(client: APIClient) -> None:
    response = client.post("/api/notes/nothing/archive", format="json")

    assert response.status_code == 422
    assert response.json() == {"code": "note_missing", "detail": "There is no note 'nothing'."}


def test_a_command_that_keeps_losing_races_answers_409_consistency_conflict(
    client: APIClient,
) -> None:
    response = client.post("/api/racing-notes/n1", format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "consistency_conflict"
    assert "AddNoteRacing" in response.json()["detail"]
    assert [e.event.data for e in get_store().read()] == [b'{"note_id":"n1","text":"first"}']


def test_commands_need_a_login_by_default(anonymous: APIClient) -> None:
    response = anonymous.post("/api/notes/n1", {"text": "x"}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert response.headers["WWW-Authenticate"] == "Token"
    assert list(get_store().read()) == []


def test_a_slice_may_open_itself_to_anyone(anonymous: APIClient) -> None:
    response = anonymous.post(
        "/api/slow-notes/n1", {"text": "x", "seconds": 0}, format="json"
    )

    assert response.status_code == 201


def test_a_slice_s_own_permissions_answer_403(client: APIClient) -> None:
    response = client.post("/api/admin-notes/n1", format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_admin_passes_a_slice_s_own_permissions(notes: None) -> None:
    client = APIClient()
    client.force_authenticate(User(pk=1, username="root", is_staff=True))

    assert client.post("/api/admin-notes/n1", format="json").status_code == 201


@pytest.mark.django_db
def test_a_token_logs_in_and_a_wrong_one_answers_401(anonymous: APIClient) -> None:
    token = Token.objects.create(user=User.objects.create_user("bob"))

    ok = anonymous.post(
        "/api/notes/n1", {"text": "x"}, format="json", headers={"Authorization": f"Token {token}"}
    )
    wrong = anonymous.post(
        "/api/notes/n2", {"text": "x"}, format="json", headers={"Authorization": "Token nope"}
    )

    assert ok.status_code == 201
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "authentication_failed", "detail": "Invalid token."}


def test_an_unknown_url_answers_a_json_404(client: APIClient) -> None:
    response = client.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "detail": "There is no endpoint at /api/no-such-thing/.",
    }


def test_a_browser_gets_django_s_404_page(client: APIClient) -> None:
    response = client.get("/api/no-such-thing/", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_project_answers_unknown_api_urls_with_json() -> None:
    response = APIClient().get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
