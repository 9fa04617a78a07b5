"""``GET /api/fairway/health/``: a real round trip to the configured store, or a clear 503."""

from __future__ import annotations

import time
from pathlib import Path

from django.test import override_settings
from rest_framework.test import APIClient

from fairway_django.store import get_database

URL = "/api/fairway/health/"


def test_a_reachable_store_is_healthy(tmp_path: Path) -> None:
    with override_settings(FAIRWAY={"STORE_URL": f"embedded://{tmp_path}/store"}):
        get_database().transact(lambda tr: tr.set(b"k", b"v"))
        response = APIClient().get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["engine"] == "embedded"
    assert body["read_version"] >= 1  # it read after the commit above
    assert body["latency_ms"] >= 0


def test_the_handle_follows_the_configured_store(tmp_path: Path) -> None:
    with override_settings(FAIRWAY={"STORE_URL": f"embedded://{tmp_path}/one"}):
        first = get_database()
        assert get_database() is first
    with override_settings(FAIRWAY={"STORE_URL": f"embedded://{tmp_path}/two"}):
        assert get_database() is not first
        assert get_database().url == f"embedded://{tmp_path}/two"


def test_an_unreachable_store_answers_503_with_a_code(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with override_settings(FAIRWAY={"STORE_URL": f"embedded://{blocker}/store"}):
        response = APIClient().get(URL)
    assert response.status_code == 503
    assert response.json()["code"] == "store_unavailable"
    assert "a-file" in response.json()["detail"]


def test_a_misconfigured_store_answers_503_with_a_code() -> None:
    with override_settings(FAIRWAY={"STORE_URL": "embedded:///srv/store?durability=fast"}):
        response = APIClient().get(URL)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "code": "store_misconfigured",
        "detail": "durability='fast' is not one of full, normal, none",
    }


def test_a_missing_fdb_cluster_file_answers_503_at_once_naming_it(tmp_path: Path) -> None:
    cluster_file = tmp_path / "fdb.cluster"
    with override_settings(FAIRWAY={"STORE_URL": f"fdb://{cluster_file}"}):
        started = time.monotonic()
        response = APIClient().get(URL)
    assert response.status_code == 503
    assert response.json()["code"] == "store_misconfigured"
    assert str(cluster_file) in response.json()["detail"]
    assert time.monotonic() - started < 2  # not the client's wait for a cluster


def test_the_endpoint_is_in_the_openapi_schema() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"][URL]["get"]
    assert set(operation["responses"]) == {"200", "503"}
