"""The event store's documented limits. Each is enforced with an error that names it.

They follow from the engine's limits (FoundationDB's) and from the cost of the tag indexes:
an event is indexed under every combination of up to ``EXACT_TAG_COMBINATION`` of its tags, so
``MAX_TAGS_PER_EVENT`` bounds how many index entries one event can cost (see docs/dcb.md).
"""

from __future__ import annotations

from fairway_django.engine.limits import TRANSACTION_SIZE_LIMIT, VALUE_SIZE_LIMIT

#: Most tags one event may carry.
MAX_TAGS_PER_EVENT = 16
#: Longest tag and longest event type, in UTF-8 bytes.
MAX_TAG_BYTES = 256
MAX_TYPE_BYTES = 256
#: Query items with at most this many tags read an index holding exactly the events that carry
#: those tags, so their conflicts are exact. Items with more tags read the index of their first
#: ``EXACT_TAG_COMBINATION`` tags and filter: correct results, coarser conflicts.
EXACT_TAG_COMBINATION = 2
#: Largest encoded event (type, tags, metadata and data together): one engine value.
MAX_EVENT_BYTES = VALUE_SIZE_LIMIT
#: Most events in one append: the 2-byte order of an event within its commit's versionstamp.
MAX_EVENTS_PER_APPEND = 65_536
#: Most bytes one append may write, keys and values with their index entries: the engine's
#: transaction limit, less room for the append's bookkeeping and conflict ranges.
MAX_APPEND_BYTES = TRANSACTION_SIZE_LIMIT - 100_000
