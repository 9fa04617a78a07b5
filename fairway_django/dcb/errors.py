"""The event store's errors. Each carries a stable ``code`` that the HTTP layer passes on.

Invalid input is refused before anything is written, with a message that names the problem;
the subclasses of :class:`InvalidInput` say which kind of input was wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .position import Position
    from .query import AppendCondition


class DcbError(Exception):
    """Base of the event store's own errors; engine errors (``FDBError``) pass through as is."""

    code: ClassVar[str] = "dcb_error"


class AppendConditionFailed(DcbError):
    """An event matching the condition's query exists after the condition's position.

    Nothing was appended. ``position`` is where the first such event was found, so a caller can
    re-read from its old position, decide again and retry.
    """

    code = "append_condition_failed"

    def __init__(self, condition: AppendCondition, position: Position) -> None:
        after = "anywhere" if condition.after is None else f"after {condition.after}"
        super().__init__(
            f"an event matching {condition.fail_if_events_match} exists {after} "
            f"(at {position}); nothing was appended. Read the query again, decide again "
            "with what it returns, and append with a condition after the newest position read"
        )
        self.condition = condition
        self.position = position


class InvalidInput(DcbError, ValueError):
    """Something given to the store is malformed; nothing was written."""

    code = "invalid_input"


class InvalidEvent(InvalidInput):
    code = "invalid_event"


class TooManyTags(InvalidEvent):
    code = "too_many_tags"


class EventTooLarge(InvalidEvent):
    code = "event_too_large"


class InvalidAppend(InvalidInput):
    """The append as a whole is refused: no events, too many, or too many bytes at once."""

    code = "invalid_append"


class InvalidQuery(InvalidInput):
    code = "invalid_query"


class InvalidPosition(InvalidInput):
    code = "invalid_position"


class InvalidNamespace(InvalidInput):
    code = "invalid_namespace"
