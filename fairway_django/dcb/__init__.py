"""The DCB event store (dcb.events): one log, queried by type and tags, with conditional appends.

``open_store(url)`` opens it on the engine a store URL names. Commands read the events their
decision needs, then append with an :class:`AppendCondition` built from the same query and the
last position read; the append fails with :class:`AppendConditionFailed` only if a matching
event was appended in between. See docs/dcb.md.
"""

from __future__ import annotations

from .append import Appended
from .errors import (
    AppendConditionFailed,
    DcbError,
    EventTooLarge,
    InvalidAppend,
    InvalidEvent,
    InvalidInput,
    InvalidNamespace,
    InvalidPosition,
    InvalidQuery,
    TooManyTags,
)
from .events import Event, SequencedEvent
from .limits import (
    EXACT_TAG_COMBINATION,
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_APPEND,
    MAX_TAG_BYTES,
    MAX_TAGS_PER_EVENT,
    MAX_TYPE_BYTES,
)
from .position import Position
from .query import AppendCondition, Query, QueryItem
from .store import DcbStore, open_store
from .subscription import Subscription

__all__ = [
    "EXACT_TAG_COMBINATION",
    "MAX_EVENTS_PER_APPEND",
    "MAX_EVENT_BYTES",
    "MAX_TAGS_PER_EVENT",
    "MAX_TAG_BYTES",
    "MAX_TYPE_BYTES",
    "AppendCondition",
    "AppendConditionFailed",
    "Appended",
    "DcbError",
    "DcbStore",
    "Event",
    "EventTooLarge",
    "InvalidAppend",
    "InvalidEvent",
    "InvalidInput",
    "InvalidNamespace",
    "InvalidPosition",
    "InvalidQuery",
    "Position",
    "Query",
    "QueryItem",
    "SequencedEvent",
    "Subscription",
    "TooManyTags",
    "open_store",
]
