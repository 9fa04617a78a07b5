"""FDB's keyspace on LMDB: every key from b"" to 10,000 bytes, in FDB's order.

LMDB keys are 1 to 511 bytes. Keys of 1 to ``SHORT_KEY_LIMIT`` bytes, nearly all of them, are
keys of LMDB's main database as they are. The others (the empty key, and keys longer than
that) live in a separate *special* database, in buckets: the key ``P + T`` (``P`` its first
``SHORT_KEY_LIMIT`` bytes at most) is listed, as sorted (tail, value) pairs, under the LMDB
key ``P + b"\\x00"``. Range reads walk the main database with C iterators alone and merge in
the special keys of the range, which are rare, in Python.
"""

from __future__ import annotations

import heapq
import operator
import struct
from bisect import bisect_left
from collections.abc import Iterator
from functools import partial
from itertools import takewhile
from typing import cast

import lmdb

SHORT_KEY_LIMIT = 510
_LENGTHS = struct.Struct("<II")

Pairs = list[tuple[bytes, bytes]]


class Keyspace:
    def __init__(self, main: lmdb._Database, special: lmdb._Database) -> None:
        self.main = main
        self.special = special

    def get(self, txn: lmdb.Transaction, key: bytes) -> bytes | None:
        if 0 < len(key) <= SHORT_KEY_LIMIT:
            return cast("bytes | None", txn.get(key, db=self.main))
        pairs = self._bucket(txn, key)
        index = _index(pairs, _tail(key))
        return pairs[index][1] if index < len(pairs) and pairs[index][0] == _tail(key) else None

    def put(self, txn: lmdb.Transaction, key: bytes, value: bytes) -> None:
        if 0 < len(key) <= SHORT_KEY_LIMIT:
            txn.put(key, value, db=self.main)
            return
        pairs = self._bucket(txn, key)
        tail = _tail(key)
        index = _index(pairs, tail)
        if index < len(pairs) and pairs[index][0] == tail:
            pairs[index] = (tail, value)
        else:
            pairs.insert(index, (tail, value))
        txn.put(_bucket_key(key), _encode(pairs), db=self.special)

    def delete(self, txn: lmdb.Transaction, key: bytes) -> None:
        if 0 < len(key) <= SHORT_KEY_LIMIT:
            txn.delete(key, db=self.main)
            return
        pairs = self._bucket(txn, key)
        tail = _tail(key)
        index = _index(pairs, tail)
        if index < len(pairs) and pairs[index][0] == tail:
            del pairs[index]
            if pairs:
                txn.put(_bucket_key(key), _encode(pairs), db=self.special)
            else:
                txn.delete(_bucket_key(key), db=self.special)

    def iterate(
        self, txn: lmdb.Transaction, begin: bytes, end: bytes, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        """The pairs with ``begin <= key < end`` in key order (descending if ``reverse``).

        The main database's part is a pipeline of C iterators over one cursor, so reading it
        costs no Python per pair; the cursor stays on the last pair taken.
        """
        main = self._main_range(txn, begin, end, reverse)
        special = self._special_range(txn, begin, end, reverse)
        if not special:
            return main
        return heapq.merge(main, special, key=operator.itemgetter(0), reverse=reverse)

    def clear_range(self, txn: lmdb.Transaction, begin: bytes, end: bytes) -> None:
        for key, _ in self._special_range(txn, begin, end, reverse=False):
            self.delete(txn, key)
        cursor = txn.cursor(db=self.main)
        if not cursor.set_range(begin or b"\x00"):
            return
        while bytes(cursor.key()) < end and cursor.delete():  # delete() moves to the next pair
            pass

    def _main_range(
        self, txn: lmdb.Transaction, begin: bytes, end: bytes, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        cursor = txn.cursor(db=self.main)
        if reverse:
            if cursor.set_range(end):  # the first key at or after end: step back once
                if not cursor.prev():
                    return iter(())
            elif not cursor.last():
                return iter(())
            # Tuples compare element-wise: (begin,) <= (key, value) exactly when begin <= key.
            return takewhile(partial(operator.le, (begin,)), _pairs(cursor.iterprev()))
        if not cursor.set_range(begin or b"\x00"):
            return iter(())
        return takewhile(partial(operator.gt, (end,)), _pairs(cursor.iternext()))

    def _special_range(
        self, txn: lmdb.Transaction, begin: bytes, end: bytes, reverse: bool
    ) -> Pairs:
        cursor = txn.cursor(db=self.special)
        found: Pairs = []
        if cursor.set_range(begin[:SHORT_KEY_LIMIT] or b"\x00"):
            for bucket_key, blob in cast("Iterator[tuple[bytes, bytes]]", cursor.iternext()):
                prefix = bucket_key[:-1]
                if prefix >= end:
                    break
                found += [(prefix + t, v) for t, v in _decode(blob) if begin <= prefix + t < end]
        found.sort(reverse=reverse)
        return found

    def _bucket(self, txn: lmdb.Transaction, key: bytes) -> Pairs:
        blob = cast("bytes | None", txn.get(_bucket_key(key), db=self.special))
        return [] if blob is None else _decode(blob)


def _pairs(
    iterator: Iterator[tuple[bytes | memoryview, bytes | memoryview]],
) -> Iterator[tuple[bytes, bytes]]:
    """py-lmdb's iterators, typed as they behave here: bytes, never buffers."""
    return cast("Iterator[tuple[bytes, bytes]]", iterator)


def _bucket_key(key: bytes) -> bytes:
    return key[:SHORT_KEY_LIMIT] + b"\x00"


def _tail(key: bytes) -> bytes:
    return key[SHORT_KEY_LIMIT:]


def _index(pairs: Pairs, tail: bytes) -> int:
    return bisect_left(pairs, tail, key=lambda pair: pair[0])


def _encode(pairs: Pairs) -> bytes:
    parts: list[bytes] = []
    for tail, value in pairs:
        parts += (_LENGTHS.pack(len(tail), len(value)), tail, value)
    return b"".join(parts)


def _decode(blob: bytes) -> Pairs:
    pairs, offset = [], 0
    while offset < len(blob):
        tail_length, value_length = _LENGTHS.unpack_from(blob, offset)
        offset += _LENGTHS.size
        tail = blob[offset : offset + tail_length]
        offset += tail_length
        pairs.append((tail, blob[offset : offset + value_length]))
        offset += value_length
    return pairs
