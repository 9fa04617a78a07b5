"""Live subscriptions: catch up from a position, then wait for new events without polling.

Every append rewrites the store's head key. A subscription that has caught up reads its query
and sets an engine watch on the head key in the same transaction, so an append committed after
that read always fires the watch (the engine compares against the value the transaction saw):
no wake-up is lost between "nothing new" and "start waiting", and nothing polls. Across
processes the engine delivers the watch.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from types import TracebackType
from typing import Self

from fairway_django.engine import Database, Transaction

from .events import SequencedEvent
from .keyspace import DcbKeyspace
from .layout import Layout
from .plan import Planner
from .position import Position
from .query import Query
from .reader import CHUNK_EVENTS, Chunk, read_chunk

#: A caught-up subscription re-reads at least this often even if no watch fired: a guard against
#: a lost notification (a watch dropped by the engine), not the way events arrive.
IDLE_RECHECK_SECONDS = 5.0
#: After a failed watch (for example too many watches), wait this long before the next one.
_WATCH_RETRY_SECONDS = 0.1


class Subscription:
    """Iterate to receive matching events: past ones first, then each new one as it commits.

    Iteration blocks while there is nothing new and ends after :meth:`stop` (callable from any
    thread) or when the ``with`` block exits. ``position`` is the last event delivered.
    """

    def __init__(
        self, database: Database, keyspace: DcbKeyspace, layout: Layout, planner: Planner,
        query: Query, after: Position | None,
    ) -> None:
        self._database = database
        self._keyspace = keyspace
        self._layout = layout
        self._planner = planner
        self._query = query
        self.position = after
        self._cursor = None if after is None else after.raw  # where reading resumes
        self._buffer: deque[SequencedEvent] = deque()
        self._stopped = threading.Event()
        self._wake = threading.Event()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> SequencedEvent:
        while not self._stopped.is_set():
            if self._buffer:
                event = self._buffer.popleft()
                self.position = event.position
                return event
            self._fetch_or_wait()
        raise StopIteration

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def _fetch_or_wait(self) -> None:
        self._wake.clear()
        self._layout.events()  # resolved before the turn is taken (Layout.events)
        with self._database.turn():
            chunk, watch = self._database.transact(self._read_or_watch)
        if chunk or chunk.resume is not None:
            self._buffer.extend(chunk)
            self._cursor = chunk.resume or chunk.last
            return
        assert watch is not None
        watch.add_done_callback(lambda _: self._wake.set())
        try:
            self._wake.wait(IDLE_RECHECK_SECONDS)
        finally:
            watch.cancel()
        if watch.done() and not watch.cancelled() and watch.exception() is not None:
            self._stopped.wait(_WATCH_RETRY_SECONDS)

    def _read_or_watch(self, tr: Transaction) -> tuple[Chunk, Future[None] | None]:
        tr.disable_read_cache()  # a subscription reads the log once: keep no pages for it
        reader = tr.snapshot
        scans = self._planner.scans(reader, self._query)  # names may be new since the last read
        chunk = read_chunk(
            reader, self._layout.events().log, scans, self._cursor, CHUNK_EVENTS, False
        )
        if chunk or chunk.resume is not None:
            return chunk, None
        return chunk, tr.watch(self._keyspace.head)
