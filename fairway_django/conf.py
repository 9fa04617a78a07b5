"""Fairway's settings: one ``FAIRWAY = {...}`` dict, read through ``fairway_settings``.

This follows DRF's ``APISettings`` (which drf-spectacular also uses): every default lives in
``DEFAULTS`` below with a comment, a project sets only the keys it changes, and the object
reloads when ``settings.FAIRWAY`` changes (``override_settings`` in tests). A misspelt key is
an error rather than silently ignored, because an ignored key means a setting that looks
applied but is not. To add a setting, add its key to ``DEFAULTS`` with a comment and a typed
property to ``FairwaySettings``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

SETTING_NAME = "FAIRWAY"

DEFAULTS: Mapping[str, object] = {
    # Where the event store lives. Required: only the project knows where its data belongs.
    #   "embedded:///absolute/path/to/store[?durability=full|normal|none]" for the embedded
    #   engine (development, tests, single machine); "fdb:///path/to/fdb.cluster" for
    #   FoundationDB, or "fdb://" for FoundationDB's default cluster file.
    "STORE_URL": None,
    # Seconds an HTTP ``Idempotency-Key`` is remembered: a repeat within it replays the first
    # response. A day covers a client's retries across a deploy or an outage.
    "IDEMPOTENCY_KEY_TTL": 86_400,
    # Seconds a request waits for a concurrent request with the same ``Idempotency-Key`` to
    # finish before answering 409 ``idempotency_key_in_use``.
    "IDEMPOTENCY_WAIT": 10,
    # Seconds a view request waits for the store to reach its ``min_position`` before
    # answering 412 ``not_caught_up`` (the client asked for a freshness
    # the store could not give in time; it may retry after ``Retry-After``).
    "MIN_POSITION_TIMEOUT": 5,
    # Seconds a runner's lease on a projection or an automation's watcher lasts without being
    # renewed. Runners renew it three times per period; when one dies, another process takes
    # its work over within about this long. Shorter is faster takeover and more renewals.
    "LEASE_SECONDS": 5,
}


def read_user_settings() -> Mapping[str, object]:
    """The project's ``FAIRWAY`` dict, or ``ImproperlyConfigured`` saying what is wrong with it."""
    user: object = getattr(settings, SETTING_NAME, {})
    if not isinstance(user, Mapping):
        raise ImproperlyConfigured(
            f"settings.{SETTING_NAME} must be a dict, not {type(user).__name__}"
        )
    unknown = [key for key in user if key not in DEFAULTS]
    if unknown:
        raise ImproperlyConfigured(_unknown_keys_message(unknown))
    return dict(user)


def _unknown_keys_message(unknown: list[Any]) -> str:
    names = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), DEFAULTS, n=1)
        names.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
    return (
        f"unknown key{'s' if len(unknown) > 1 else ''} in settings.{SETTING_NAME}: "
        f"{', '.join(names)}; known keys: {', '.join(DEFAULTS)}"
    )


class FairwaySettings:
    """Typed, validated access to ``settings.FAIRWAY`` merged over ``DEFAULTS``.

    The project's dict is read on first use and cached, so reading a setting costs a dict
    lookup; ``reload()`` drops the cache.
    """

    def __init__(self) -> None:
        self._user: Mapping[str, object] | None = None

    @property
    def STORE_URL(self) -> str:
        value = self._value("STORE_URL")
        if value is None:
            raise ImproperlyConfigured(
                f"settings.{SETTING_NAME}['STORE_URL'] is not set; set it to "
                "embedded:///absolute/path/to/store, fdb:///path/to/fdb.cluster or fdb://"
            )
        if not isinstance(value, str):
            raise ImproperlyConfigured(
                f"settings.{SETTING_NAME}['STORE_URL'] must be a string, not {type(value).__name__}"
            )
        return value

    @property
    def IDEMPOTENCY_KEY_TTL(self) -> float:
        return self._seconds("IDEMPOTENCY_KEY_TTL")

    @property
    def IDEMPOTENCY_WAIT(self) -> float:
        return self._seconds("IDEMPOTENCY_WAIT")

    @property
    def MIN_POSITION_TIMEOUT(self) -> float:
        return self._seconds("MIN_POSITION_TIMEOUT")

    @property
    def LEASE_SECONDS(self) -> float:
        return self._seconds("LEASE_SECONDS")

    def reload(self) -> None:
        self._user = None

    def _value(self, name: str) -> object:
        if self._user is None:
            self._user = read_user_settings()
        return self._user.get(name, DEFAULTS[name])

    def _seconds(self, name: str) -> float:
        value = self._value(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ImproperlyConfigured(
                f"settings.{SETTING_NAME}[{name!r}] must be a positive number of seconds, "
                f"not {value!r}"
            )
        return float(value)


fairway_settings = FairwaySettings()


def _reload_fairway_settings(sender: object, *, setting: str, **kwargs: object) -> None:
    if setting == SETTING_NAME:
        fairway_settings.reload()


setting_changed.connect(_reload_fairway_settings)
