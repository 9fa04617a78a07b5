"""The framework's errors. Each has a stable ``code`` that the HTTP layer passes on.

Declaration mistakes (``EventDefinitionError``, ``InvalidSelection``, ``DuplicateRegistration``)
surface at import, registration or the first use; the others describe what went wrong at run
time, and say what to do about it.
"""

from __future__ import annotations


class FairwayError(Exception):
    """Base of the framework's errors."""

    #: Stable, machine-readable; ``Rejected`` sets its own per instance.
    code: str = "fairway_error"


class EventDefinitionError(FairwayError, TypeError):
    """An event class is declared wrongly (a Tag on a float field, a bad schema_version, ...)."""

    code = "event_definition_error"


class InvalidEventData(FairwayError, ValueError):
    """An event's fields do not match its declared types or constraints; nothing was appended."""

    code = "invalid_event_data"


class UnknownEventType(FairwayError, LookupError):
    """A stored event's type has no event class here."""

    code = "unknown_event_type"


class EventDecodeError(FairwayError, ValueError):
    """A stored event's data cannot be turned into its class (bad data, missing upcaster)."""

    code = "event_decode_error"


class InvalidSelection(FairwayError, ValueError):
    """A query names a field that is not a Tag of every class it selects (or names no class)."""

    code = "invalid_selection"


class Rejected(FairwayError):  # noqa: N818 (a decision, not a failure)
    """A domain rule said no. ``code`` is a machine-readable snake_case reason; ``detail`` says
    it in words; ``status`` overrides the HTTP status the command declares for the code."""

    code = "rejected"

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


class ConsistencyConflict(FairwayError):
    """Concurrent writers kept changing what a command read; it gave up. Nothing was appended."""

    code = "consistency_conflict"


class NotFound(FairwayError, LookupError):
    """A view found no event for its parameters."""

    code = "not_found"


class NotCaughtUp(FairwayError):
    """The store did not reach a requested position in time."""

    code = "not_caught_up"


class InvalidDocument(FairwayError, ValueError):
    """A projection's handler stored something its read model cannot hold (a key too long, a
    lookup value of the wrong type, a document that is not JSON or too big)."""

    code = "invalid_document"


class DuplicateRegistration(FairwayError):
    """Two event classes with one event_type, two slices with one name, or two with one route."""

    code = "duplicate_registration"


class SliceImportError(FairwayError, ImportError):
    """A slice module failed to import (the cause is chained)."""

    code = "slice_import_error"
