"""Keys longer than LMDB's 511 bytes: stored in buckets, yet ordered exactly like FDB's."""

from __future__ import annotations

from pathlib import Path

import lmdb
from hypothesis import given, settings
from hypothesis import strategies as st

from fairway_django.engine.embedded import keyspace

_PREFIXES = [b"", b"a" * 509, b"a" * 510, b"a" * 511, b"a" * 510 + b"\x00", b"b" * 700]
keys = st.builds(
    lambda prefix, tail: prefix + tail,
    st.sampled_from(_PREFIXES),
    st.binary(max_size=3).map(lambda b: bytes(x % 4 for x in b)),
).filter(bool)
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
    data = env.open_db(b"data")
    model: dict[bytes, bytes] = {}
    with env.begin(write=True) as txn:
        for op, key, arg in operations:
            if op == "put":
                keyspace.put(txn, data, key, arg)
                model[key] = arg
            elif op == "delete":
                keyspace.delete(txn, data, key)
                model.pop(key, None)
            else:
                begin, end = min(key, arg), max(key, arg)
                keyspace.clear_range(txn, data, begin, end)
                for doomed in [k for k in model if begin <= k < end]:
                    del model[doomed]
        for key, value in model.items():
            assert keyspace.get(txn, data, key) == value
        begin, end = min(bounds), max(bounds)
        expected = sorted((k, v) for k, v in model.items() if begin <= k < end)
        got = list(keyspace.iterate(txn, data, begin, end, reverse))
        assert got == (expected[::-1] if reverse else expected)
    env.close()
