"""System checks ``fairway.E001`` and ``fairway.E002``, run the way Django runs them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings


def run_check() -> str:
    """Run ``manage.py check``; return its output, or the text of the errors it raised."""
    out = StringIO()
    try:
        call_command("check", stdout=out, stderr=out)
    except SystemCheckError as errors:
        return str(errors)
    return out.getvalue()


def test_the_project_configuration_passes() -> None:
    assert "System check identified no issues" in run_check()


def test_the_checks_are_registered_under_the_fairway_tag() -> None:
    out = StringIO()
    call_command("check", tags=["fairway"], stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.parametrize(
    "url",
    [
        "embedded:///srv/fairway/store",
        "embedded:///srv/fairway/store?durability=normal",
        "fdb:///etc/foundationdb/fdb.cluster",
        "fdb://",
    ],
)
def test_every_documented_store_url_form_passes(url: str) -> None:
    with override_settings(FAIRWAY={"STORE_URL": url}):
        assert "no issues" in run_check()


@override_settings(FAIRWAY={"STORE_URL": "fdb://", "STORE": "x"})
def test_e001_names_an_unknown_key() -> None:
    report = run_check()
    assert "(fairway.E001) unknown key in settings.FAIRWAY: 'STORE'" in report
    assert "did you mean 'STORE_URL'?" in report


@override_settings(FAIRWAY="fdb://")
def test_e001_when_fairway_is_not_a_dict() -> None:
    assert "(fairway.E001) settings.FAIRWAY must be a dict, not str" in run_check()


@override_settings(FAIRWAY={"STORE": "fdb://"})
def test_e001_alone_when_the_dict_is_unusable() -> None:
    # The store URL is not judged in a dict that is already wrong: one error, one fix.
    report = run_check()
    assert "fairway.E001" in report
    assert "fairway.E002" not in report


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost/store", "unknown store URL scheme 'http'"),
        ("embedded://var/store", "names a host ('var')"),
        ("embedded:relative/store", "has no absolute path"),
        ("fdb:///etc/fdb.cluster#main", "has a #fragment"),
        ("", "a store URL is required"),
        ("embedded:///srv/store?durability=bogus", "durability='bogus' is not one of"),
        ("embedded:///srv/store?colour=blue", "unknown option(s) colour"),
        ("fdb://?durability=full", "unknown option(s) durability"),
    ],
)
def test_e002_explains_a_malformed_store_url(url: str, expected: str) -> None:
    with override_settings(FAIRWAY={"STORE_URL": url}):
        report = run_check()
    assert "(fairway.E002) settings.FAIRWAY['STORE_URL'] is not a valid store URL" in report
    assert expected in report


@override_settings(FAIRWAY={})
def test_e002_when_the_store_url_is_missing() -> None:
    report = run_check()
    assert "(fairway.E002) settings.FAIRWAY['STORE_URL'] is not set" in report
    assert "HINT: Use embedded:///absolute/path/to/store" in report


@override_settings(FAIRWAY={"STORE_URL": 42})
def test_e002_when_the_store_url_is_not_a_string() -> None:
    assert "(fairway.E002) settings.FAIRWAY['STORE_URL'] must be a string, not int" in run_check()


def test_checks_never_open_the_store(tmp_path: Path) -> None:
    store = tmp_path / "not-yet"
    with override_settings(FAIRWAY={"STORE_URL": f"embedded://{store}"}):
        assert "no issues" in run_check()
    assert not store.exists()
