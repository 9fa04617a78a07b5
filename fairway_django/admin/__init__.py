"""Fairway in the Django admin: the event browser, projections and automations.

Django's admin autodiscovery imports this module and registers the three pages on the default
admin site. A project with its own ``AdminSite`` registers them there itself::

    from fairway_django.admin import AutomationAdmin, EventAdmin, ProjectionAdmin
    from fairway_django.models import Automation, Event, Projection

    my_site.register(Event, EventAdmin)
    my_site.register(Projection, ProjectionAdmin)
    my_site.register(Automation, AutomationAdmin)
"""

from __future__ import annotations

from django.contrib import admin

from fairway_django.models import Automation, Event, Projection

from .automations import AutomationAdmin
from .events import EventAdmin
from .projections import ProjectionAdmin

admin.site.register(Event, EventAdmin)
admin.site.register(Projection, ProjectionAdmin)
admin.site.register(Automation, AutomationAdmin)

__all__ = ["AutomationAdmin", "EventAdmin", "ProjectionAdmin"]
