"""Fairway's slice framework: typed events, commands that decide over a DCB log, live views,
projections (persistent views) and automations.

A slice is one class: a :class:`Command` that reads what its decision needs and returns new
events, a :class:`View` that folds events into state, a :class:`Projection` that keeps a read
model up to date, or an :class:`Automation` that turns events into jobs. Events are typed ``msgspec`` structs
whose ``Tag`` fields become the tags DCB queries select on. Pure Python over
``fairway_django.dcb``; the Django and DRF integration lives above it. See docs/slices.md.
"""

from __future__ import annotations

from .automations import Automation, InvalidJob, Job, RunningJob
from .codec import Recorded
from .commands import Backoff, Command, CommandResult
from .documents import Documents, Page
from .errors import (
    ConsistencyConflict,
    DuplicateRegistration,
    EventDecodeError,
    EventDefinitionError,
    FairwayError,
    InvalidDocument,
    InvalidEventData,
    InvalidSelection,
    NotCaughtUp,
    NotFound,
    Rejected,
    SliceImportError,
    UnknownEventType,
)
from .events import Event, Tag, upcaster
from .query import EventQuery, select
from .reader import Reader
from .readmodels import ProjectionNotReady, ReadModel
from .registry import Registry, registry
from .runner import run_command
from .handlers import on
from .projections import Projection
from .projector import ProjectionBusy, ProjectionFailed, catch_up
from .views import View, ViewResult, compute_view

__all__ = [
    "Automation",
    "Backoff",
    "Command",
    "CommandResult",
    "ConsistencyConflict",
    "Documents",
    "DuplicateRegistration",
    "Event",
    "EventDecodeError",
    "EventDefinitionError",
    "EventQuery",
    "FairwayError",
    "InvalidDocument",
    "InvalidEventData",
    "InvalidJob",
    "InvalidSelection",
    "Job",
    "NotCaughtUp",
    "NotFound",
    "Page",
    "Projection",
    "ProjectionBusy",
    "ProjectionFailed",
    "ProjectionNotReady",
    "ReadModel",
    "Reader",
    "Recorded",
    "Registry",
    "Rejected",
    "RunningJob",
    "SliceImportError",
    "Tag",
    "UnknownEventType",
    "View",
    "ViewResult",
    "catch_up",
    "compute_view",
    "on",
    "registry",
    "run_command",
    "select",
    "upcaster",
]
