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
        # Imported here, not at module level: checks and discovery read settings and import
        # every app's slices, which must not happen while Django is still populating apps.
        from .checks import check_settings, check_slices, check_urls
        from .discovery import autodiscover
        from .framework import registry

        autodiscover(registry)
        checks.register(check_settings, "fairway")
        checks.register(check_slices, "fairway")
        checks.register(check_urls, "fairway", checks.Tags.urls)
