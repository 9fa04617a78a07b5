"""Keys LMDB cannot hold as they are (empty, or over 510 bytes) are stored in buckets, yet
every key reads back in exactly FDB's order."""

from __future__ import annotations

from pathlib import Path

import lmdb
from hypothesis import given, settings
from hypothesis import strategies as st

from fairway_django.engine.embedded.keyspace import Keyspace

_PREFIXES = [b"", b"a" * 509, b"a" * 510, b"a" * 511, b"a" * 510 + b"\x00", b"b" * 700]
keys = st.builds(
    lambda prefix, tail: prefix + tail,
    st.sampled_from(_PREFIXES),
    st.binary(max_size=3).map(lambda b: bytes(x % 4 for x in b)),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), keys, st.binary(max_size=8)),
        st.tuples(st.just("delete"), keys, st.just(b"")),
        st.tuples(st.just("clear_range"), keys, keys),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(operations=operations, bounds=st.tuples(keys, keys), reverse=st.booleans())
def test_matches_a_sorted_dict(
    tmp_path_factory: object, operations: list[tuple[str, bytes, bytes]],
    bounds: tuple[bytes, bytes], reverse: bool,
) -> None:
    path: Path = tmp_path_factory.mktemp("ks")  # type: ignore[attr-defined]
    env = lmdb.open(str(path), map_size=1 << 26, max_dbs=1)
    keyspace = Keyspace(env.open_db(None), env.open_db(b"\xffspecial"))
    model: dict[bytes, bytes] = {}
    with env.begin(write=True) as txn:
        for op, key, arg in operations:
            if op == "put":
                keyspace.put(txn, key, arg)
                model[key] = arg
            elif op == "delete":
                keyspace.delete(txn, key)
                model.pop(key, None)
            else:
                begin, end = min(key, arg), max(key, arg)
                keyspace.clear_range(txn, begin, end)
                for doomed in [k for k in model if begin <= k < end]:
                    del model[doomed]
        for key, value in model.items():
            assert keyspace.get(txn, key) == value
        begin, end = min(bounds), max(bounds)
        expected = sorted((k, v) for k, v in model.items() if begin <= k < end)
        got = list(keyspace.iterate(txn, begin, end, reverse))
        assert got == (expected[::-1] if reverse else expected)
    env.close()


def test_the_empty_key_is_a_key_like_any_other(tmp_path: Path) -> None:
    """LMDB has no empty key; FDB does, and it sorts before every other key."""
    from fairway_django.engine import open_engine

    db = open_engine(f"embedded://{tmp_path}/s")
    db.transact(lambda tr: (tr.set(b"", b"first"), tr.set(b"\x00", b"second")))
    assert db.transact(lambda tr: tr.get(b"")) == b"first"
    assert db.transact(lambda tr: [tuple(kv) for kv in tr.get_range(b"", b"\xff")]) == [
        (b"", b"first"),
        (b"\x00", b"second"),
    ]
    assert db.transact(lambda tr: tr.get_range(b"", b"\xff", reverse=True).__next__().key) == (
        b"\x00"
    )
    db.transact(lambda tr: tr.clear_range(b"", b"\x01"))
    assert db.transact(lambda tr: list(tr.get_range(b"", b"\xff"))) == []
    db.close()
