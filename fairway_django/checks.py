"""System checks, so that a misconfigured project fails at ``manage.py check`` / start-up.

- ``fairway.E001``: ``settings.FAIRWAY`` is not a dict, or has keys Fairway does not know.
- ``fairway.E002``: ``FAIRWAY["STORE_URL"]`` is missing or is not a valid store URL.

The checks only validate the configuration; they never open the store, so ``check`` stays
fast and works on a machine that cannot reach FoundationDB (a CI job, a build step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

from .conf import DEFAULTS, SETTING_NAME, read_user_settings
from .engine import open_engine
from .engine.errors import EngineConfigurationError

STORE_URL_FORMS = "embedded:///absolute/path/to/store, fdb:///path/to/fdb.cluster or fdb://"


def check_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        user = read_user_settings()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Every key and its default is listed in fairway_django.conf.DEFAULTS.",
                id="fairway.E001",
            )
        ]
    return _check_store_url(user.get("STORE_URL", DEFAULTS["STORE_URL"]))


def _check_store_url(url: object) -> list[CheckMessage]:
    name = f"settings.{SETTING_NAME}['STORE_URL']"
    hint = f"Use {STORE_URL_FORMS}."
    if url is None:
        problem = f"{name} is not set"
    elif not isinstance(url, str):
        problem = f"{name} must be a string, not {type(url).__name__}"
    else:
        try:
            open_engine(url).close()  # engines connect lazily: this validates, opens nothing
        except EngineConfigurationError as exc:
            # The engine's message already names the accepted forms.
            problem, hint = f"{name} is not a valid store URL: {exc}", ""
        else:
            return []
    return [Error(problem, hint=hint or None, id="fairway.E002")]
