"""Fairway's system checks, run the way Django runs them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Annotated, Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from rest_framework import serializers

from fairway_django.framework import Command, Event, Reader, Tag, View, on, registry, select
from fairway_django.rest.routes import urlconf


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


@pytest.mark.parametrize("value", [0, -1, "10", True])
def test_e001_when_a_duration_is_not_a_positive_number(value: object) -> None:
    with override_settings(FAIRWAY={"STORE_URL": "fdb://", "IDEMPOTENCY_WAIT": value}):
        report = run_check()
    assert (
        "(fairway.E001) settings.FAIRWAY['IDEMPOTENCY_WAIT'] must be a positive number of "
        f"seconds, not {value!r}"
    ) in report


def test_a_store_url_may_name_a_namespace() -> None:
    with override_settings(FAIRWAY={"STORE_URL": "embedded:///srv/store?namespace=courses"}):
        assert "no issues" in run_check()
    with override_settings(FAIRWAY={"STORE_URL": "embedded:///srv/store?namespace=a b"}):
        assert "namespace 'a b' must be 1 to 64 letters" in run_check()


# --- slices -----------------------------------------------------------------------------------


class ThingMade(Event):
    thing_id: Annotated[str, Tag]
    size: int


class ThingPainted(Event):
    thing_id: Annotated[str, Tag]
    colour: Annotated[str, Tag]


class Things(View):
    """Not routed: W001 stays out of the E003 tests."""

    @on(ThingMade)
    def made(self, state: Any, event: ThingMade) -> Any:
        return state


class MakeThing(Command):
    def decide(self, read: Reader, thing_id: str) -> ThingMade:
        if read.exists(ThingMade, thing_id=thing_id):
            return ThingMade(thing_id=f"{thing_id}-2", size=1)
        return ThingMade(thing_id=thing_id, size=1)


class Inputs(serializers.Serializer):
    thing_id = serializers.CharField()


class MakeThingUnserved(Command):
    Input = Inputs

    def decide(self, read: Reader, thing_id: str) -> None:
        return None


class MakeThingServed(MakeThingUnserved):
    route = "things"


class ThingByColour(View):
    route = "things/<str:thing_id>/<str:colour>"

    @on(ThingMade)
    def made(self, state: Any, event: ThingMade) -> Any:
        return state

    @on(ThingPainted)
    def painted(self, state: Any, event: ThingPainted) -> Any:
        return state


class PaintedThing(View):
    route = "painted/<str:colour>"

    @on(ThingPainted)
    def painted(self, state: Any, event: ThingPainted) -> Any:
        return state


@pytest.mark.parametrize("slice_class", [Things, MakeThing])
def test_e003_a_slice_uses_an_event_class_that_is_not_registered(slice_class: type) -> None:
    with registry.temporarily(slice_class):
        report = run_check()
    assert (
        f"(fairway.E003) tests.test_checks.{slice_class.__name__} uses the event class "
        "tests.test_checks.ThingMade, which is not registered"
    ) in report


@pytest.mark.parametrize("slice_class", [Things, MakeThing])
def test_e003_not_when_the_event_class_is_registered(slice_class: type) -> None:
    with registry.temporarily(slice_class, ThingMade):
        assert "no issues" in run_check()


def test_e004_a_command_with_input_but_no_route() -> None:
    with registry.temporarily(MakeThingUnserved):
        report = run_check()
    assert (
        "(fairway.E004) tests.test_checks.MakeThingUnserved has an Input serializer but no "
        "route, so it can never be served over HTTP"
    ) in report


def test_e004_not_for_a_routed_command_or_one_without_input() -> None:
    with registry.temporarily(MakeThingServed, MakeThing, ThingMade):
        with override_settings(ROOT_URLCONF=urlconf(registry)):
            assert "no issues" in run_check()


def test_e005_a_route_parameter_that_is_not_a_tag_of_every_handled_class() -> None:
    with registry.temporarily(ThingByColour, ThingMade, ThingPainted):
        with override_settings(ROOT_URLCONF=urlconf(registry)):
            report = run_check()
    assert (
        "(fairway.E005) tests.test_checks.ThingByColour's route "
        "'things/<str:thing_id>/<str:colour>' has parameters its default query cannot select by"
    ) in report
    assert "colour" in report.split("fairway.E005")[1]


def test_e005_not_when_every_parameter_is_a_tag_or_the_view_has_its_own_query() -> None:
    class ThingByColourQueried(ThingByColour):
        route = "queried/<str:thing_id>/<str:colour>"

        def query(self, **params: Any) -> Any:
            return select(ThingPainted, **params)

    with registry.temporarily(PaintedThing, ThingByColourQueried, ThingMade, ThingPainted):
        with override_settings(ROOT_URLCONF=urlconf(registry)):
            assert "no issues" in run_check()


def test_w001_routed_slices_that_the_urlconf_does_not_serve() -> None:
    with registry.temporarily(PaintedThing, ThingPainted):
        report = run_check()
    assert (
        "(fairway.W001) 1 slice(s) have a route but no URL: painted_thing; "
        "settings.ROOT_URLCONF ('project.urls') does not include fairway_django.urls"
    ) in report
    assert 'HINT: Add path("api/", include("fairway_django.urls"))' in report


def test_w001_not_when_the_urlconf_serves_them() -> None:
    with registry.temporarily(PaintedThing, ThingPainted):
        with override_settings(ROOT_URLCONF=urlconf(registry)):
            assert "no issues" in run_check()
