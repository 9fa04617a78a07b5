"""The Django app config: the one place where Fairway hooks into Django's start-up."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class FairwayConfig(AppConfig):
    name = "fairway_django"
    # A short label keeps Django's identifiers (check ids, admin URLs, migrations) readable.
    label = "fairway"
    verbose_name = "Fairway"

    def ready(self) -> None:
        # Imported here, not at module level: checks read settings, which must not happen
        # while Django is still populating the app registry.
        from .checks import check_settings

        checks.register(check_settings, "fairway")
