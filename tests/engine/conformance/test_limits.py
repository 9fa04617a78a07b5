"""FDB's limits, enforced with FDB's errors, and keys of every legal length.

FDB's client raises key_too_large / value_too_large from ``set`` itself, but its thread-safe
API may defer such errors to the next operation or to commit: the tests accept either, and
check that nothing of the transaction was applied.
"""

from __future__ import annotations

import random
import time

import pytest

from fairway_django.engine import (
    InvalidOptionValue,
    KeyOutsideLegalRange,
    KeyTooLarge,
    TransactionTimedOut,
    TransactionTooLarge,
    TransactionTooOld,
    ValueTooLarge,
)
from fairway_django.engine.keys import strinc

from ._support import commit_conflicts, raises_exactly

KEY_LIMIT, VALUE_LIMIT = 10_000, 100_000


def key_of_length(engine, length: int, fill: bytes = b"k") -> bytes:  # type: ignore[no-untyped-def]
    head = engine.key("")
    return head + fill * (length - len(head))


# --- sizes ----------------------------------------------------------------------------------


def test_key_of_exactly_10000_bytes_and_value_of_exactly_100000_bytes_work(engine):
    key, value = key_of_length(engine, KEY_LIMIT), bytes(range(256)) * 390 + b"x" * 160
    assert len(key) == KEY_LIMIT and len(value) == VALUE_LIMIT
    engine.put(key, value)
    assert engine.read(key) == value
    assert engine.read_prefix() == [(key, value)]


@pytest.mark.parametrize(
    "write",
    [
        lambda tr, k: tr.set(k, b"v"),
        lambda tr, k: tr.add(k, b"\x01"),
    ],
    ids=["set", "add"],
)
def test_key_over_10000_bytes_is_key_too_large(engine, write):
    tr = engine.db.create_transaction()
    tr.set(engine.key("other"), b"o")
    with raises_exactly(KeyTooLarge, 2102):
        write(tr, key_of_length(engine, KEY_LIMIT + 1))
        tr.commit()
    assert engine.read_prefix() == []


@pytest.mark.parametrize(
    "write",
    [
        lambda tr, k: tr.set(k, b"v" * (VALUE_LIMIT + 1)),
        lambda tr, k: tr.add(k, b"\x01" * (VALUE_LIMIT + 1)),
    ],
    ids=["set", "add"],
)
def test_value_over_100000_bytes_is_value_too_large(engine, write):
    tr = engine.db.create_transaction()
    tr.set(engine.key("other"), b"o")
    with raises_exactly(ValueTooLarge, 2103):
        write(tr, engine.key("big"))
        tr.commit()
    assert engine.read_prefix() == []


def test_transaction_over_10_000_000_bytes_is_too_large_at_commit(engine):
    tr = engine.db.create_transaction()
    value = b"v" * VALUE_LIMIT
    for n in range(101):
        tr.set(engine.key(f"big/{n:03}"), value)
    with raises_exactly(TransactionTooLarge, 2101):
        tr.commit()
    assert engine.read_prefix() == []


def test_transaction_of_9_megabytes_commits(engine):
    def write(tr):  # type: ignore[no-untyped-def]
        for n in range(90):
            tr.set(engine.key(f"big/{n:03}"), b"v" * VALUE_LIMIT)

    engine.db.transact(write)
    assert len(engine.read_prefix()) == 90


# --- the system key space --------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        lambda tr: tr.set(b"\xff/fairway", b"v"),
        lambda tr: tr.set(b"\xff", b"v"),
        lambda tr: tr.get(b"\xff/fairway"),
        lambda tr: tr.clear(b"\xff/fairway"),
        lambda tr: list(tr.get_range(b"\xfe", b"\xff\x00")),
    ],
    ids=["set", "set-xff", "get", "clear", "get_range-into-system"],
)
def test_system_keys_are_key_outside_legal_range(engine, operation):
    tr = engine.db.create_transaction()
    with raises_exactly(KeyOutsideLegalRange, 2004):
        operation(tr)
        tr.commit()


def test_range_read_may_end_exactly_at_the_system_key_space(engine):
    engine.put(engine.key("a"), b"a")
    tr = engine.db.create_transaction()
    assert [tuple(kv) for kv in tr.get_range(engine.prefix, b"\xff", limit=1)] == [
        (engine.key("a"), b"a")
    ]


# --- long keys (the embedded engine stores keys over 511 bytes specially) ---------------------


def long_keys(engine) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Short and long keys (total lengths around 511 bytes and up to the limit), many sharing
    long prefixes, some being prefixes of others, some differing early and long afterwards."""
    head = engine.key("")
    keys = {head + b"short", head + b"k", head + b"l", head + b"j" * 2000}
    for length in (500, 510, 511, 512, 513, 600, 4000, KEY_LIMIT - 1, KEY_LIMIT):
        body = b"k" * (length - len(head))
        keys.update({head + body, head + body + b"\x00", head + body + b"\xff"})
        keys.update({head + body[:-1] + b"\x01", head + body[:-1] + b"l"})
    shared = b"k" * 700
    for tail in (b"a", b"b", b"b\x00", b"c" * 300, b"\x00" * 5, b"\xff"):
        keys.add(head + shared + tail)
    for n in (5, 300, 511, 512, 1000):
        keys.add(head + b"m" * n + b"z" * 600)
    return sorted(k for k in keys if len(k) <= KEY_LIMIT)


def test_long_and_short_keys_sort_bytewise_in_get_range(engine):
    keys = long_keys(engine)
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)

    def write(tr):  # type: ignore[no-untyped-def]
        for n, key in enumerate(shuffled):
            tr.set(key, str(n).encode())
        # read-your-writes must order them the same way before commit
        assert [kv.key for kv in tr.get_range_startswith(engine.prefix)] == keys

    engine.db.transact(write)
    tr = engine.db.create_transaction()
    assert [kv.key for kv in tr.get_range_startswith(engine.prefix)] == keys
    assert [
        kv.key for kv in tr.get_range_startswith(engine.prefix, reverse=True)
    ] == keys[::-1]
    assert [kv.key for kv in tr.get_range_startswith(engine.prefix, limit=7)] == keys[
        :7
    ]
    for key in keys:
        assert tr.get(key) == str(shuffled.index(key)).encode()
    assert tr.get(engine.key("k" * 700 + "bb")) is None


def test_range_bounds_between_long_keys_are_exact(engine):
    keys = long_keys(engine)
    engine.db.transact(lambda tr: [tr.set(k, b"") for k in keys])
    tr = engine.db.create_transaction()
    for i, j in [
        (0, len(keys)),
        (3, 9),
        (10, 11),
        (12, 30),
        (len(keys) - 5, len(keys) - 1),
    ]:
        end = keys[j] if j < len(keys) else strinc(engine.prefix)
        got = [kv.key for kv in tr.get_range(keys[i], end)]
        assert got == keys[i:j]
        reverse = [
            kv.key for kv in tr.get_range(keys[i], keys[j - 1] + b"\x00", reverse=True)
        ]
        assert reverse == keys[i:j][::-1]


def test_clear_and_clear_range_on_long_keys(engine):
    keys = long_keys(engine)
    engine.db.transact(lambda tr: [tr.set(k, b"") for k in keys])
    doomed, begin, end = keys[5], keys[10], keys[20]

    def clear(tr):  # type: ignore[no-untyped-def]
        tr.clear(doomed)
        tr.clear_range(begin, end)

    engine.db.transact(clear)
    remaining = [k for k, _ in engine.read_prefix()]
    assert remaining == [k for n, k in enumerate(keys) if n != 5 and not 10 <= n < 20]
    assert engine.read(doomed) is None and engine.read(end) == b""


def test_conflicts_on_long_keys_sharing_a_long_prefix_are_exact(engine):
    shared = engine.key("k" * 3000)
    assert commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(shared + b"a"),
        lambda tr: tr.set(shared + b"a", b"x"),
    )
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: tr.get(shared + b"a"),
        lambda tr: tr.set(shared + b"a\x00", b"x"),
    )
    assert not commit_conflicts(
        engine.db,
        engine.key("own"),
        lambda tr: list(tr.get_range(shared + b"b", shared + b"c")),
        lambda tr: tr.set(shared + b"c", b"x"),
    )


# --- time limits --------------------------------------------------------------------------


def test_transaction_older_than_five_seconds_is_too_old_and_retryable(engine):
    """Reads and commits fail with transaction_too_old (1007) once the read version is more
    than five seconds old. (FDB lets a commit without read-conflict ranges through, so the
    committing transaction here has read something.)"""
    engine.put(engine.key("a"), b"a")
    reader, writer = engine.db.create_transaction(), engine.db.create_transaction()
    assert reader.get(engine.key("a")) == b"a"
    assert writer.get(engine.key("a")) == b"a"
    time.sleep(5.5)
    with raises_exactly(TransactionTooOld, 1007) as caught:
        reader.get(
            engine.key("b")
        )  # a key not read before: FDB would serve a repeat from cache
    assert caught.value.retryable
    writer.set(engine.key("a"), b"late")
    with raises_exactly(TransactionTooOld, 1007):
        writer.commit()
    assert engine.read(engine.key("a")) == b"a"


def test_timed_out_transaction_raises_transaction_timed_out_not_retryable(engine):
    engine.put(engine.key("a"), b"a")
    tr = engine.db.create_transaction(timeout=0.05)
    assert tr.get(engine.key("a")) == b"a"
    time.sleep(0.15)
    with raises_exactly(TransactionTimedOut, 1031) as caught:
        tr.get(engine.key("b"))
    assert not caught.value.retryable


def test_timed_out_transaction_does_not_commit(engine):
    tr = engine.db.create_transaction(timeout=0.05)
    tr.set(engine.key("a"), b"a")
    time.sleep(0.15)
    with raises_exactly(TransactionTimedOut, 1031):
        tr.commit()
    assert engine.read(engine.key("a")) is None


@pytest.mark.parametrize(
    "seconds",
    [float("inf"), float("nan"), -0.5, (2**31) / 1000, 1e12],
    ids=["inf", "nan", "negative", "2**31ms", "1e12s"],
)
def test_a_timeout_fdb_cannot_take_is_invalid_option_value(engine, seconds):
    """FDB's timeout option takes 0 to 2**31 - 1 milliseconds; anything else is 2006 on every
    engine, not an OverflowError or ValueError on the way to the client."""
    with raises_exactly(InvalidOptionValue, 2006):
        engine.db.create_transaction(timeout=seconds)
    with raises_exactly(InvalidOptionValue, 2006):
        engine.db.transact(lambda tr: tr.get(engine.key("a")), timeout=seconds)


def test_the_longest_timeout_fdb_takes_works(engine):
    tr = engine.db.create_transaction(timeout=(2**31 - 1) / 1000)
    assert tr.get(engine.key("a")) is None


def test_ping_returns_a_read_version(engine):
    version = engine.db.ping(timeout=10)
    assert isinstance(version, int) and version >= 0
