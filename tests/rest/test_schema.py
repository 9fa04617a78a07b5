"""The OpenAPI schema: valid, and documenting every slice's input, output and error codes;
Swagger UI and Redoc served offline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from fairway_django.framework import Command, View, registry
from fairway_django.rest.routes import urlconf


@pytest.fixture(scope="module")
def project_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The project's schema as ``manage.py spectacular`` writes it: validated, no warnings."""
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema: dict[str, Any] = yaml.safe_load(path.read_text())
    return schema


def schema_path(route: str) -> str:
    return "/api/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route)


def codes(operation: dict[str, Any], status: int) -> list[str]:
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    error = schema["anyOf"][1] if "anyOf" in schema else schema
    return list(error["properties"]["code"]["enum"])


def test_every_command_is_documented_with_its_codes(project_schema: dict[str, Any]) -> None:
    commands = [cls for cls in registry.commands.values() if cls.route is not None]
    assert commands  # the example slices
    for command in commands:
        operation = project_schema["paths"][schema_path(command.route)]["post"]
        assert operation["operationId"] == command.slice_name
        in_path = set(re.findall(r"<(?:[^>:]+:)?([^>]+)>", command.route))
        if command.Input is not None:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            component = body["$ref"].rpartition("/")[2]
            # The URL fills its parameters: the body documents only the rest.
            properties = project_schema["components"]["schemas"][component]["properties"]
            assert set(properties) == set(command.Input().fields) - in_path
        for parameter in operation["parameters"]:
            if parameter["in"] == "path":  # a "/" in a value would match no route
                assert parameter["schema"]["pattern"] == "^[^/]+$"
        assert {"201", "400", "404", "409", "422"} <= set(operation["responses"])
        assert "not_found" in codes(operation, 404)
        assert {"invalid_idempotency_key", "parse_error"} <= set(codes(operation, 400))
        assert {"consistency_conflict", "idempotency_key_in_use"} <= set(codes(operation, 409))
        assert "idempotency_key_reused" in codes(operation, 422)
        for code, status in command.rejections.items():
            assert code in codes(operation, status), (command, code)
        header = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header and header[0]["in"] == "header"


def test_text_fields_document_what_the_serializer_refuses(project_schema: dict[str, Any]) -> None:
    body = project_schema["components"]["schemas"]["SubscribeStudentToCourseInputRequest"]
    student = body["properties"]["student_id"]
    pattern = re.compile(student["pattern"])

    assert student["minLength"] == 1
    assert pattern.match("s1")
    assert not pattern.match("   ")  # DRF trims, then refuses a blank value
    assert not pattern.match("s\x001")  # DRF refuses NUL characters


def test_every_view_is_documented_with_its_codes(project_schema: dict[str, Any]) -> None:
    views = [cls for cls in registry.views.values() if cls.route is not None]
    assert views
    for view in views:
        operation = project_schema["paths"][schema_path(view.route)]["get"]
        assert operation["operationId"] == view.slice_name
        assert "$ref" in operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert codes(operation, 400) == ["invalid_position"]
        assert codes(operation, 404) == ["not_found"]
        assert codes(operation, 412) == ["not_caught_up"]
        parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
        assert {("query", "min_position"), ("header", "Fairway-Min-Position")} <= parameters


def test_the_notes_schema_is_valid_and_lists_declared_and_default_codes(notes: None) -> None:
    from .notes import NOTES

    assert all(cls in registry.slices() for cls in NOTES if issubclass(cls, (Command, View)))
    schema = SchemaGenerator(urlconf=urlconf(registry)).get_schema(request=None, public=True)
    validate_schema(schema)
    notes = schema["paths"]["/api/notes/{note_id}"]

    assert set(notes) == {"get", "post"}  # a command and a view on one route
    assert codes(notes["post"], 409) == ["consistency_conflict", "idempotency_key_in_use",
                                         "note_exists"]
    archive = schema["paths"]["/api/notes/{note_id}/archive"]["post"]
    assert "requestBody" not in archive
    assert codes(archive, 422) == ["idempotency_key_reused"]
    replayed = archive["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed["schema"]["enum"] == ["true"]
    assert "Idempotent-Replayed" not in archive["responses"]["400"].get("headers", {})
    position = notes["get"]["responses"]["200"]["headers"]["Fairway-Position"]
    assert position["schema"]["type"] == "string"
    assert {"401", "403"} <= set(notes["post"]["responses"])  # IsAuthenticated by default
    assert not {"401", "403"} & set(notes["get"]["responses"])  # DRF's default: AllowAny
    slow = schema["paths"]["/api/slow-notes/{note_id}"]["post"]
    assert not {"401", "403"} & set(slow["responses"])  # AllowAny by its own choice


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_nothing_from_another_host(url: str) -> None:
    client = Client()
    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r"https?:|[\"'(]//", html) is None  # no absolute or host-relative URL
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        b"".join(response.streaming_content)


def test_swagger_s_inline_script_loads_the_schema_from_this_site() -> None:
    html = Client().get("/api/docs/").content.decode()

    assert re.findall(r'url: "([^"]+)"', html) == ["/api/schema/"]

