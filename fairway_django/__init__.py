"""Fairway for Django: event sourcing with Dynamic Consistency Boundaries on FoundationDB.

Layers, each depending only on those below it: ``engine`` (an FDB-shaped transactional
key-value store, embedded or FoundationDB), ``dcb`` (the event store), ``framework`` (events,
commands, views, automations) and the Django integration. Add ``"fairway_django"`` to
``INSTALLED_APPS`` and configure it with a ``FAIRWAY = {...}`` dict; see ``fairway_django.conf``.
"""

from __future__ import annotations

__version__ = "0.1.0"
