"""Where a namespace's events are: its short root, found (or given) on first use.

Nothing is read when a store is created (a store may be created before a web server forks,
and FoundationDB's client must not be used across a fork). The first operation that needs the
events finds the namespace's short root, giving it one if the namespace never wrote, and,
if the namespace still holds events in the previous layout, upgrades them in place first
(``upgrade``), so that no read or append ever sees half of one layout.
"""

from __future__ import annotations

import threading

from fairway_django.engine import Database, Transaction, keys

from .keyspace import ROOTS_COUNTER, DcbKeyspace, EventSpace
from .names import BOOKKEEPING_RETRIES, Dictionary
from .upgrade import upgrade_if_needed


class Layout:
    """A namespace's event space and dictionary, resolved once per store handle."""

    def __init__(self, database: Database, keyspace: DcbKeyspace) -> None:
        self._database = database
        self._keyspace = keyspace
        self.names = Dictionary(database, keyspace)
        self._space: EventSpace | None = None
        self._lock = threading.Lock()

    def events(self) -> EventSpace:
        """The namespace's event space. Its first call runs transactions (and perhaps an
        upgrade) under a lock, so it must come before the store's turn is taken: a thread
        holding the turn would wait for the lock, whose holder waits for the turn."""
        space = self._space
        if space is None:
            with self._lock:
                if self._space is None:
                    root = self._database.transact(self._root, retry_limit=BOOKKEEPING_RETRIES)
                    found = EventSpace(root)
                    upgrade_if_needed(self._database, self._keyspace, found, self.names)
                    self._space = found
                space = self._space
        return space

    def _root(self, tr: Transaction) -> bytes:
        root = tr.get(self._keyspace.short_root)
        if root is None:
            counter = tr.get(ROOTS_COUNTER)
            number = 1 if counter is None else int.from_bytes(counter, "big") + 1
            tr.set(ROOTS_COUNTER, number.to_bytes(8, "big"))
            root = keys.pack((number,))
            tr.set(self._keyspace.short_root, root)
        return root
