"""Upgrading a namespace written in the previous layout, in place, on first use.

The previous layout (Fairway before the dictionary) kept the log and the indexes under
``("dcb", namespace)`` as tuples, with names in every index key and a copy of each small event
in each of its index entries: ``("e", <position>)`` for the log, ``("y", type, <position>)``,
``("g", (tag, ...), <position>)`` and ``("t", type, (tag, ...), <position>)``. The rest of the
namespace (head, append ids, idempotency keys) has not changed.

The upgrade moves the log a chunk at a time: in one transaction it reads a chunk of the old log
(with read conflicts), writes those events' entries in the new layout at the same positions,
and clears their old keys. A process that stops half-way leaves a store that the next one to
open it finishes; two processes upgrading at once take turns chunk by chunk. It says what it
does, in the log and with a progress bar on stderr: it is never silent.
"""

from __future__ import annotations

import logging
import sys
from itertools import combinations

from tqdm import tqdm

from fairway_django.engine import Database, Transaction, keys
from fairway_django.engine.keys import strinc

from .codec import decode
from .events import Event
from .keyspace import TAG, TYPE, DcbKeyspace, EventSpace
from .limits import EXACT_TAG_COMBINATION
from .names import Dictionary, names_of
from .position import POSITION_BYTES

logger = logging.getLogger(__name__)

#: Events moved per transaction: some sixteen keys written or cleared for each.
CHUNK_EVENTS = 256
#: Old log keys counted per transaction, for the progress bar's total.
_COUNT_CHUNK = 10_000
_VERSIONSTAMP_CODE = b"\x33"


class LegacyKeys:
    """The previous layout's log and index keys, as it wrote them."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.log = keys.pack(("dcb", namespace, "e"))
        self.indexes = [keys.pack(("dcb", namespace, family)) for family in ("g", "t", "y")]

    def index_keys(self, event: Event, raw: bytes) -> list[bytes]:
        """The old index entries of ``event`` at position ``raw``."""
        position = _VERSIONSTAMP_CODE + raw
        found = [keys.pack(("dcb", self.namespace, "y", event.type)) + position]
        ordered = sorted(event.tags)
        for size in range(1, min(len(ordered), EXACT_TAG_COMBINATION) + 1):
            for chosen in combinations(ordered, size):
                found.append(keys.pack(("dcb", self.namespace, "g", chosen)) + position)
                found.append(keys.pack(("dcb", self.namespace, "t", event.type, chosen)) + position)
        return found


def upgrade_if_needed(
    database: Database, keyspace: DcbKeyspace, space: EventSpace, names: Dictionary
) -> None:
    """Move the namespace's events from the previous layout into ``space``, if it has any."""
    legacy = LegacyKeys(keyspace.namespace)
    begin, end = legacy.log, strinc(legacy.log)
    if not database.transact(lambda tr: bool(list(tr.snapshot.get_range(begin, end, limit=1)))):
        return
    total = _count(database, begin, end)
    logger.warning(
        "the event store's namespace %r at %s holds %d events in the previous layout; "
        "upgrading it in place (stop any process running an older Fairway on it)",
        keyspace.namespace, database.url, total,
    )
    with tqdm(
        total=total, unit="event", file=sys.stderr,
        desc=f"upgrading event store namespace {keyspace.namespace!r}",
    ) as bar:
        while moved := _move_chunk(database, legacy, space, names):
            bar.update(moved)

    def clear_leftovers(tr: Transaction) -> None:
        for prefix in (legacy.log, *legacy.indexes):
            tr.clear_range(prefix, strinc(prefix))

    database.transact(clear_leftovers)
    logger.warning("upgraded the event store's namespace %r: %d events", keyspace.namespace, total)


def _count(database: Database, begin: bytes, end: bytes) -> int:
    total = 0
    while True:
        found = database.transact(
            lambda tr: [key for key, _ in tr.snapshot.get_range(begin, end, limit=_COUNT_CHUNK)]
        )
        total += len(found)
        if len(found) < _COUNT_CHUNK:
            return total
        begin = found[-1] + b"\x00"


def _move_chunk(
    database: Database, legacy: LegacyKeys, space: EventSpace, names: Dictionary
) -> int:
    begin, end = legacy.log, strinc(legacy.log)

    def move(tr: Transaction) -> int:
        pairs = list(tr.get_range(begin, end, limit=CHUNK_EVENTS))
        events = [decode(record) for _, record in pairs]
        numbers = names.number_in(
            tr, (name for event in events for name in names_of(event.type, event.tags))
        ).numbers
        for (key, record), event in zip(pairs, events):
            raw = key[-POSITION_BYTES:]
            tr.set(space.log + raw, record)
            type_ = numbers[TYPE, event.type]
            tags = tuple(sorted(numbers[TAG, tag] for tag in event.tags))
            for prefix in space.index_prefixes(type_, tags):
                tr.set(prefix + raw, b"")
            for old in legacy.index_keys(event, raw):
                tr.clear(old)
            tr.clear(key)
        return len(pairs)

    return database.transact(move)
