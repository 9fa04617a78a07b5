"""Placeholder models: the admin's entries for data that lives in the event store, not in tables.

Django's admin lists models, and its permissions belong to models. Events, projections and
automations are not ORM rows, so each gets an unmanaged model with no table (the way django-rq
gives its queues an admin entry): the app list shows them, ``view`` permissions decide who may
browse them, and the custom permissions below decide who may act. A read-only support user gets
the ``view_*`` permissions only. Nothing ever queries these models; their admin pages read the
store (see ``fairway_django.admin``), and ``name``/``position`` give admin log entries an id.
"""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    position = models.CharField(primary_key=True, max_length=24)

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "event"

    def __str__(self) -> str:
        return f"event at {self.position}"


class Projection(models.Model):
    name = models.CharField(primary_key=True, max_length=200)

    class Meta:
        managed = False
        default_permissions = ("view",)
        permissions = [
            ("rebuild_projection", "Can rebuild a projection's read model"),
            ("skip_projection_event", "Can skip the event a projection failed on"),
            ("drop_projection", "Can drop an old generation of a projection"),
        ]

    def __str__(self) -> str:
        return self.name


class Automation(models.Model):
    name = models.CharField(primary_key=True, max_length=200)

    class Meta:
        managed = False
        default_permissions = ("view",)
        permissions = [
            ("replay_job", "Can replay an automation's dead letters"),
            ("discard_job", "Can discard an automation's dead letters"),
            ("skip_automation_event", "Can skip the event an automation's watcher failed on"),
        ]

    def __str__(self) -> str:
        return self.name
