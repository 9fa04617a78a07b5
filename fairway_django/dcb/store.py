"""The DCB event store: append, read, head and subscribe over any engine.

The store holds no state of its own besides caches: every process opening the same URL and
namespace sees the same log, and the engine's transactions are what make appends safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from types import TracebackType
from typing import Self

from fairway_django.engine import Database, RetryPolicy, Transaction, open_engine, parse_store_url

from .append import Appended, Appender
from .codec import decode
from .errors import InvalidQuery
from .events import Event, SequencedEvent
from .keyspace import DcbKeyspace, position_of
from .layout import Layout
from .plan import Planner
from .position import POSITION_BYTES, Position, check_after
from .query import AppendCondition, Query
from .reader import CHUNK_EVENTS, Chunk, read_chunk
from .subscription import Subscription

#: The namespace of a store URL without a ``namespace`` option.
DEFAULT_NAMESPACE = "default"
#: How long ``append_once`` remembers a key unless told otherwise: one day.
DEFAULT_KEY_TTL_SECONDS = 86_400.0


class DcbStore:
    """An event log with DCB appends. Thread-safe: open one per process and share it."""

    def __init__(
        self, database: Database, namespace: str = DEFAULT_NAMESPACE, *,
        owns_database: bool = False,
    ) -> None:
        self.keyspace = DcbKeyspace(namespace)
        self.database = database
        self._owns_database = owns_database
        self._layout = Layout(database, self.keyspace)
        self._planner = Planner(self._layout)
        self._appender = Appender(database, self.keyspace, self._layout, self._planner)

    @property
    def namespace(self) -> str:
        return self.keyspace.namespace

    def append(
        self, events: Iterable[Event], condition: AppendCondition | None = None
    ) -> Position:
        """Append ``events`` atomically, at consecutive positions; return the last one's.

        With a condition, raise :class:`AppendConditionFailed` (and write nothing) when an event
        matching ``condition.fail_if_events_match`` exists after ``condition.after``.
        """
        return self._appender.append(events, condition).position

    def append_once(
        self, events: Iterable[Event], key: str, condition: AppendCondition | None = None, *,
        ttl: float = DEFAULT_KEY_TTL_SECONDS,
    ) -> Appended:
        """Append as :meth:`append` does, at most once per idempotency ``key``.

        In the append's own transaction: if an append recorded ``key`` less than ``ttl``
        seconds before, return its last position with ``duplicate=True``, write nothing and
        skip the condition; otherwise check the condition, append, and record the key. A key is
        1 to 200 bytes of UTF-8 text.
        """
        once = self._appender.idempotency_key(key, ttl)
        return self._appender.append(events, condition, once)

    def appended_under(self, key: str) -> Position | None:
        """The last position of the append that recorded idempotency ``key`` (None when no
        unexpired append did): lets a caller skip work an earlier attempt already did."""
        once = self._appender.idempotency_key(key, DEFAULT_KEY_TTL_SECONDS)
        return self.database.transact(lambda tr: once.recorded(tr.snapshot))

    def read_append(self, last: Position) -> list[SequencedEvent]:
        """The events of the append whose last event is at ``last``, in order (empty if none)."""
        check_after(last)
        if last is None:
            raise InvalidQuery("read_append needs the Position of an append's last event")
        log = self._layout.events().log
        begin = log + last.raw[: POSITION_BYTES - 2] + bytes(2)
        end = log + last.raw + b"\x00"

        def read(tr: Transaction) -> list[SequencedEvent]:
            return [
                SequencedEvent(Position(position_of(key)), decode(record))
                for key, record in tr.snapshot.get_range(begin, end)
            ]

        return self.database.transact(read)

    def read(
        self, query: Query | None = None, *, after: Position | None = None,
        limit: int | None = None, backwards: bool = False,
        transaction: Transaction | None = None,
    ) -> Iterator[SequencedEvent]:
        """Stream the events matching ``query`` in position order (descending if ``backwards``).

        ``after`` is exclusive (backwards: the events before it); ``limit`` caps the count.
        Events are fetched in chunks, each in its own transaction, so memory stays flat and a
        long read never outlives the engine's transaction window. With ``transaction``, every
        chunk is read in that one instead (snapshot reads, adding no conflicts), so that several
        reads and :meth:`head` see the log as it was at one moment, with one round trip to
        start them; its five-second window then bounds them all.
        """
        query = _checked(query)
        check_after(after)
        if limit is not None and (type(limit) is not int or limit < 0):
            raise InvalidQuery(f"limit must be a whole number or None, not {limit!r}")
        run: Callable[[Callable[[Transaction], Chunk]], Chunk] = (
            self.database.transact if transaction is None else lambda fn: fn(transaction)
        )
        return self._stream(query, None if after is None else after.raw, limit, backwards, run)

    def head(self, *, transaction: Transaction | None = None) -> Position | None:
        """The position of the last event appended, or None while the log is empty (as
        ``transaction`` sees it, when given)."""
        def get(tr: Transaction) -> bytes | None:
            return tr.snapshot.get(self.keyspace.head)

        raw = self.database.transact(get) if transaction is None else get(transaction)
        return None if raw is None else Position(raw)

    def subscribe(
        self, query: Query | None = None, *, after: Position | None = None
    ) -> Subscription:
        """Matching events after ``after``: those stored, then each new one as it commits."""
        query = _checked(query)
        check_after(after)
        return Subscription(
            self.database, self.keyspace, self._layout, self._planner, query, after
        )

    def close(self) -> None:
        if self._owns_database:
            self.database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DcbStore {self.database.url} namespace={self.namespace}>"

    def _stream(
        self, query: Query, after: bytes | None, limit: int | None, backwards: bool,
        run: Callable[[Callable[[Transaction], Chunk]], Chunk],
    ) -> Iterator[SequencedEvent]:
        remaining = limit
        scanning = False  # past its first chunk, a read is a long scan (disable_read_cache)
        self._layout.events()  # resolved before any turn is taken (Layout.events)
        while remaining is None or remaining > 0:
            count = CHUNK_EVENTS if remaining is None else min(CHUNK_EVENTS, remaining)
            with self.database.turn():  # the events are built as the caller consumes them
                chunk = run(partial(
                    self._chunk, query=query, after=after, count=count, backwards=backwards,
                    scanning=scanning,
                ))
            scanning = True
            yield from chunk
            if chunk.resume is None:
                return
            after = chunk.resume
            if remaining is not None:
                remaining -= len(chunk)

    def _chunk(
        self, tr: Transaction, *, query: Query, after: bytes | None, count: int, backwards: bool,
        scanning: bool,
    ) -> Chunk:
        if scanning:
            tr.disable_read_cache()
        reader = tr.snapshot
        scans = self._planner.scans(reader, query)
        return read_chunk(reader, self._layout.events().log, scans, after, count, backwards)


def _checked(query: Query | None) -> Query:
    if query is None:
        return Query.all()
    if not isinstance(query, Query):
        raise InvalidQuery(f"expected a Query, not {type(query).__name__}: {query!r}")
    return query


def open_store(url: str, *, retry: RetryPolicy | None = None) -> DcbStore:
    """Open the store at a store URL; its ``namespace`` option picks the store within the engine.

    ``embedded:///var/app/store?namespace=billing`` and ``...?namespace=shipping`` are two
    independent logs in one engine. ``retry`` replaces the engine's retry policy.
    """
    parsed = parse_store_url(url)
    namespace = parsed.options.get("namespace", DEFAULT_NAMESPACE)
    keyspace_check = DcbKeyspace(namespace)  # a bad namespace fails before the engine opens
    database = open_engine(parsed.without("namespace"))
    if retry is not None:
        database.retry = retry
    return DcbStore(database, keyspace_check.namespace, owns_database=True)
