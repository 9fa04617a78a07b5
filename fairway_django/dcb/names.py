"""The dictionary of type and tag names: every index key holds a number instead of the name.

A type like ``CourseCapacityChanged`` or a tag like ``course:2f1c...`` would otherwise be
repeated in every index key of every event that carries it: seven times per event of two tags.
The dictionary gives each name a number, once, in the store's own keys (``("n", kind, name)``
under the namespace), so that every process, and FoundationDB, sees the same numbers.

A number never changes once given, so each process keeps the ones it has seen. New names get
theirs in a transaction of their own, before the append that needs them: two appends bringing
new names at once then retry that small transaction (both read the counter), not the append,
and they do so whatever retry limit the store's engine handle has: an append of events on
disjoint tags never conflicts, not even with a retry limit of zero. A name without a number
matches no event yet; a condition on it reads its dictionary entry with a read conflict, so
an append that numbers the name meanwhile makes the condition's check run again.
"""

from __future__ import annotations

from collections.abc import Iterable

from fairway_django.engine import Database, ReadTransaction, Transaction

from .keyspace import TAG, TYPE, DcbKeyspace

#: A dictionary entry: its kind (keyspace.TYPE or keyspace.TAG) and the name.
Name = tuple[str, str]
_NUMBER_BYTES = 8
#: Retries of a transaction that hands out numbers (or a namespace's short root).
BOOKKEEPING_RETRIES = 100


def names_of(type_: str, tags: tuple[str, ...]) -> list[Name]:
    """The dictionary entries the index keys of an event of this type and tags need."""
    return [(TYPE, type_), *((TAG, tag) for tag in tags)]


class Dictionary:
    """One namespace's numbers for names, cached in this process. Thread-safe."""

    def __init__(self, database: Database, keyspace: DcbKeyspace) -> None:
        self._database = database
        self._keyspace = keyspace
        self._known: dict[Name, int] = {}

    def number(self, name: Name) -> int:
        """The number of a name :meth:`assign` or :meth:`lookup` has seen."""
        return self._known[name]

    def lookup(self, reader: ReadTransaction, name: Name) -> int | None:
        """The name's number, or None while no event carries it. Read with ``reader``: a
        transaction's own reads put the entry in its read conflicts, its snapshot's do not."""
        number = self._known.get(name)
        if number is None:
            raw = reader.get(self._keyspace.name(*name))
            if raw is None:
                return None
            number = self._known[name] = int.from_bytes(raw, "big")
        return number

    def assign(self, names: Iterable[Name]) -> None:
        """Make sure every name has a number (one transaction when any is new)."""
        missing = [name for name in dict.fromkeys(names) if name not in self._known]
        if missing:
            self._known.update(self._database.transact(
                lambda tr: self._assign(tr, missing), retry_limit=BOOKKEEPING_RETRIES
            ))

    def _assign(self, tr: Transaction, names: list[Name]) -> dict[Name, int]:
        found: dict[Name, int] = {}
        counter: int | None = None
        for name in names:
            key = self._keyspace.name(*name)
            raw = tr.get(key)
            if raw is None:
                if counter is None:
                    stored = tr.get(self._keyspace.next_number)
                    counter = 0 if stored is None else int.from_bytes(stored, "big")
                raw = counter.to_bytes(_NUMBER_BYTES, "big")
                tr.set(key, raw)
                counter += 1
            found[name] = int.from_bytes(raw, "big")
        if counter is not None:
            tr.set(self._keyspace.next_number, counter.to_bytes(_NUMBER_BYTES, "big"))
        return found
