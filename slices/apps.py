"""The example domain's app config."""

from __future__ import annotations

from django.apps import AppConfig


class SlicesConfig(AppConfig):
    name = "slices"
    verbose_name = "Example slices"
