"""FDB-sized keys on LMDB, whose keys stop at 511 bytes.

Keys of up to ``SHORT_KEY_LIMIT`` bytes (nearly all keys) are LMDB keys as they are. A longer
key ``P + T`` (``P`` its first ``SHORT_KEY_LIMIT`` bytes) lives in a *bucket*: the LMDB entry
``P + b"\\x00"``, whose value lists every long key with that prefix as sorted (tail, value)
pairs. No short key can be as long as a bucket key, and a bucket sorts right after ``P`` and
before every other short key, so one LMDB cursor walk visits all keys in FDB order. Buckets
are rare and small; the common path pays one length comparison.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Iterator
from typing import cast

import lmdb

SHORT_KEY_LIMIT = 510
_BUCKET_KEY_LENGTH = SHORT_KEY_LIMIT + 1
_LENGTHS = struct.Struct("<II")

Pairs = list[tuple[bytes, bytes]]


def get(txn: lmdb.Transaction, db: lmdb._Database, key: bytes) -> bytes | None:
    if len(key) <= SHORT_KEY_LIMIT:
        return cast("bytes | None", txn.get(key, db=db))
    pairs = _load(txn, db, key)
    tail = key[SHORT_KEY_LIMIT:]
    index = _index(pairs, tail)
    return pairs[index][1] if index < len(pairs) and pairs[index][0] == tail else None


def put(txn: lmdb.Transaction, db: lmdb._Database, key: bytes, value: bytes) -> None:
    if len(key) <= SHORT_KEY_LIMIT:
        txn.put(key, value, db=db)
        return
    pairs = _load(txn, db, key)
    tail = key[SHORT_KEY_LIMIT:]
    index = _index(pairs, tail)
    if index < len(pairs) and pairs[index][0] == tail:
        pairs[index] = (tail, value)
    else:
        pairs.insert(index, (tail, value))
    _store(txn, db, key, pairs)


def delete(txn: lmdb.Transaction, db: lmdb._Database, key: bytes) -> None:
    if len(key) <= SHORT_KEY_LIMIT:
        txn.delete(key, db=db)
        return
    pairs = _load(txn, db, key)
    tail = key[SHORT_KEY_LIMIT:]
    index = _index(pairs, tail)
    if index < len(pairs) and pairs[index][0] == tail:
        del pairs[index]
        _store(txn, db, key, pairs)


def iterate(
    txn: lmdb.Transaction, db: lmdb._Database, begin: bytes, end: bytes, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """Yield the pairs with ``begin <= key < end``, streaming from an LMDB cursor."""
    low, high = _lmdb_key(begin), _lmdb_key(end)
    high_is_bucket = len(end) > SHORT_KEY_LIMIT
    cursor = txn.cursor(db=db)
    if reverse:
        entries = _backward(cursor, low, high, high_is_bucket)
    else:
        entries = _forward(cursor, low, high, high_is_bucket)
    for lmdb_key, value in entries:
        if len(lmdb_key) != _BUCKET_KEY_LENGTH:
            yield lmdb_key, value
            continue
        prefix = lmdb_key[:SHORT_KEY_LIMIT]
        pairs = _decode(value)
        for tail, pair_value in reversed(pairs) if reverse else pairs:
            key = prefix + tail
            if begin <= key < end:
                yield key, pair_value


def clear_range(txn: lmdb.Transaction, db: lmdb._Database, begin: bytes, end: bytes) -> None:
    doomed = [key for key, _ in iterate(txn, db, begin, end, reverse=False)]
    for key in doomed:
        delete(txn, db, key)


def _forward(
    cursor: lmdb.Cursor, low: bytes, high: bytes, high_is_bucket: bool
) -> Iterator[tuple[bytes, bytes]]:
    if not cursor.set_range(low):
        return
    for key, value in cast("Iterator[tuple[bytes, bytes]]", cursor.iternext()):
        if key >= high and not (high_is_bucket and key == high):
            return
        yield key, value


def _backward(
    cursor: lmdb.Cursor, low: bytes, high: bytes, high_is_bucket: bool
) -> Iterator[tuple[bytes, bytes]]:
    if not cursor.set_range(high):
        if not cursor.last():
            return
    elif not (high_is_bucket and cursor.key() == high) and not cursor.prev():
        return
    for key, value in cast("Iterator[tuple[bytes, bytes]]", cursor.iterprev()):
        if key < low:
            return
        yield key, value


def _lmdb_key(key: bytes) -> bytes:
    return key if len(key) <= SHORT_KEY_LIMIT else key[:SHORT_KEY_LIMIT] + b"\x00"


def _load(txn: lmdb.Transaction, db: lmdb._Database, key: bytes) -> Pairs:
    blob = cast("bytes | None", txn.get(_lmdb_key(key), db=db))
    return [] if blob is None else _decode(blob)


def _store(txn: lmdb.Transaction, db: lmdb._Database, key: bytes, pairs: Pairs) -> None:
    if pairs:
        txn.put(_lmdb_key(key), _encode(pairs), db=db)
    else:
        txn.delete(_lmdb_key(key), db=db)


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
