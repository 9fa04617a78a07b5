"""``fairway_settings``: the project's ``FAIRWAY`` dict over the defaults, validated and reloaded."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from pytest_django import Settings

from fairway_django.conf import DEFAULTS, FairwaySettings, fairway_settings


def test_reads_the_store_url_from_the_fairway_dict() -> None:
    assert fairway_settings.STORE_URL == settings.FAIRWAY["STORE_URL"]


def test_follows_override_settings_in_and_out() -> None:
    before = fairway_settings.STORE_URL

    with override_settings(FAIRWAY={"STORE_URL": "fdb:///etc/foundationdb/fdb.cluster"}):
        assert fairway_settings.STORE_URL == "fdb:///etc/foundationdb/fdb.cluster"

    assert fairway_settings.STORE_URL == before


def test_every_default_is_documented_by_a_property() -> None:
    for name in DEFAULTS:
        assert isinstance(getattr(FairwaySettings, name), property), name


@override_settings(FAIRWAY={"STOR_URL": "fdb://", "retries": 3})
def test_unknown_keys_are_an_error_that_names_them_and_suggests_the_real_one() -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        fairway_settings.STORE_URL

    message = str(raised.value)
    assert "'STOR_URL' (did you mean 'STORE_URL'?)" in message
    assert "'retries'" in message
    assert "known keys: STORE_URL" in message


@override_settings(FAIRWAY=[("STORE_URL", "fdb://")])
def test_a_fairway_setting_that_is_not_a_dict_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"settings.FAIRWAY must be a dict, not list"):
        fairway_settings.STORE_URL


@override_settings(FAIRWAY={})
def test_a_missing_store_url_is_an_error_that_shows_the_accepted_forms() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"'STORE_URL'\] is not set.*embedded:///"):
        fairway_settings.STORE_URL


@override_settings(FAIRWAY={"STORE_URL": b"fdb://"})
def test_a_store_url_that_is_not_a_string_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"must be a string, not bytes"):
        fairway_settings.STORE_URL


def test_without_a_fairway_setting_the_defaults_apply(settings: Settings) -> None:
    # pytest-django's ``settings`` fixture deletes without sending setting_changed, so read
    # through a fresh object rather than the cached module-level one.
    del settings.FAIRWAY

    with pytest.raises(ImproperlyConfigured, match=r"is not set"):
        FairwaySettings().STORE_URL


def test_the_project_dict_is_read_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = FairwaySettings()
    reader.STORE_URL
    monkeypatch.setattr(settings, "FAIRWAY", {"STORE_URL": "fdb://"})

    assert reader.STORE_URL != "fdb://"
    reader.reload()
    assert reader.STORE_URL == "fdb://"
