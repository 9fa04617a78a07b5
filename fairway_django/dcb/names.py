"""The dictionary of type and tag names: every index key holds a number instead of the name.

A type like ``CourseCapacityChanged`` or a tag like ``course:2f1c...`` would otherwise be
repeated in every index key of every event that carries it: seven times per event of two tags.
The dictionary gives each name a number, once, in the store's own keys (``("n", kind, name)``
under the namespace), so that every process, and FoundationDB, sees the same numbers.

A name is numbered by the append that first carries it, in that append's own transaction:
most commands that create something bring a new tag (``order:<new id>``), and a transaction
of its own before each of them would double their commits (and, at ``durability=full``, their
syncs). The number comes from a block this process reserved beforehand, in a small
transaction of its own taken once per block (blocks grow from 16 to 1,024 numbers), so
appends never read the shared counter and never conflict over it. The append reads the name's
entry with a read conflict before writing it: two appends bringing the same new name at once
conflict, one of them commits its number, and the other's retry finds and uses it. So a
number exists exactly when an event carries it, and no two names share one.

A number never changes once given, so each process keeps the ones it has seen. A name without
a number matches no event yet; a condition on it reads its dictionary entry with a read
conflict, so an append that numbers the name meanwhile makes the condition's check run again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import NamedTuple

from fairway_django.engine import Database, ReadTransaction, Transaction

from .keyspace import TAG, TYPE, DcbKeyspace

#: A dictionary entry: its kind (keyspace.TYPE or keyspace.TAG) and the name.
Name = tuple[str, str]
_NUMBER_BYTES = 8
#: Retries of a transaction that reserves numbers (or a namespace's short root).
BOOKKEEPING_RETRIES = 100
#: Numbers a process reserves at first, and at most, at a time: small at first, so that the
#: first names of a store (its types, mostly) get one-byte numbers whichever process brings
#: them; growing, so that a process bringing many names reserves rarely. A process that ends
#: leaves the rest of its block unused: numbers need not be dense.
FIRST_BLOCK, LAST_BLOCK = 16, 1024
#: Numbers of names kept per process; the cache starts afresh when full (names read again).
_CACHED_NAMES = 262_144


class Numbered(NamedTuple):
    """The names of a transaction's events and their numbers, as it commits them."""

    #: Every name's number.
    numbers: dict[Name, int]
    #: The names this transaction numbers: known to this process once it commits
    #: (``Dictionary.committed``).
    written: dict[Name, int]


def names_of(type_: str, tags: tuple[str, ...]) -> list[Name]:
    """The dictionary entries the index keys of an event of this type and tags need."""
    return [(TYPE, type_), *((TAG, tag) for tag in tags)]


class Dictionary:
    """One namespace's numbers for names, cached in this process. Thread-safe."""

    def __init__(self, database: Database, keyspace: DcbKeyspace) -> None:
        self._database = database
        self._keyspace = keyspace
        self._known: dict[Name, int] = {}  # numbered in the store
        self._picked: dict[Name, int] = {}  # numbers this process chose for names not yet known
        self._reserved: Iterator[int] = iter(())  # this process's block, what is left of it
        self._owner = os.getpid()  # the process that reserved it
        self._block = FIRST_BLOCK
        self._lock = threading.Lock()

    def lookup(self, reader: ReadTransaction, name: Name) -> int | None:
        """The name's number, or None while no event carries it. Read with ``reader``: a
        transaction's own reads put the entry in its read conflicts, its snapshot's do not."""
        number = self._known.get(name)
        if number is None:
            raw = reader.get(self._keyspace.name(*name))
            if raw is None:
                return None
            number = self._learn(name, int.from_bytes(raw, "big"))
        return number

    def number_in(self, tr: Transaction, names: Iterable[Name]) -> Numbered:
        """Every name's number once ``tr`` commits. A name this process does not know is read
        in ``tr``, with a read conflict, so that two transactions numbering one name cannot
        both commit; if the store has no number for it, ``tr`` writes one this process picked:
        the one it picked for the name before (a retry, or an append that failed, gives the
        same), or the next of its reserved block. A number picked for one name is never picked
        for another, even when the store ends up giving the name a different one."""
        numbered = Numbered({}, {})
        for name in dict.fromkeys(names):  # once each: a second read would see the write
            number = self._known.get(name)
            if number is None:
                key = self._keyspace.name(*name)
                raw = tr.get(key)
                if raw is None:
                    number = numbered.written[name] = self._pick(name)
                    tr.set(key, number.to_bytes(_NUMBER_BYTES, "big"))
                else:
                    number = self._learn(name, int.from_bytes(raw, "big"))
            numbered.numbers[name] = number
        return numbered

    def committed(self, numbers: dict[Name, int]) -> None:
        """``numbers`` are in the store: a transaction that wrote them (``number_in``) committed."""
        for name, number in numbers.items():
            self._learn(name, number)

    def _pick(self, name: Name) -> int:
        while True:
            with self._lock:
                if self._owner != os.getpid():  # forked (the engine allows it): the parent's
                    self._owner = os.getpid()  # block and picks are the parent's alone
                    self._reserved = iter(())
                    self._picked.clear()
                number = self._picked.get(name)
                if number is None:
                    number = next(self._reserved, None)
                    if number is not None:
                        if len(self._picked) >= _CACHED_NAMES:
                            self._picked.clear()  # safe: a forgotten pick is never picked again
                        self._picked[name] = number
                if number is not None:
                    return number
                size = self._block
                self._block = min(2 * size, LAST_BLOCK)
            # A transaction of its own, once per block, outside the lock: a thread holding the
            # store's turn may wait for the lock, and the transaction may wait for the turn.
            # Two threads may both reserve; numbers need not be dense.
            block = self._reserve(size)
            with self._lock:
                self._reserved = chain(self._reserved, block)

    def _learn(self, name: Name, number: int) -> int:
        known = self._known
        if len(known) >= _CACHED_NAMES:
            known.clear()
        known[name] = number
        self._picked.pop(name, None)
        return number

    def _reserve(self, size: int) -> Iterator[int]:
        """The next ``size`` numbers, this process's alone (the shared counter moves past them)."""

        def take(tr: Transaction) -> int:
            stored = tr.get(self._keyspace.next_number)
            first = 0 if stored is None else int.from_bytes(stored, "big")
            tr.set(self._keyspace.next_number, (first + size).to_bytes(_NUMBER_BYTES, "big"))
            return first

        first = self._database.transact(take, retry_limit=BOOKKEEPING_RETRIES)
        return iter(range(first, first + size))
