"""Versionstamps and commit versions: 10 bytes, strictly increasing in commit order everywhere.

A versionstamp is the 8-byte big-endian commit version followed by the 2-byte order of the
transaction within its commit batch; keys and values carry a 10-byte placeholder and a 4-byte
little-endian offset (API version 520 and later), and the 2 user-version bytes after the
placeholder are kept as written.
"""

from __future__ import annotations

import threading

import pytest

from fairway_django.engine import (
    FDBError,
    KeyOutsideLegalRange,
    KeyTooLarge,
    NoCommitVersion,
    ValueTooLarge,
)

from ._support import commit_conflicts, raises_exactly, vs_key, vs_value


def commit_one_stamp(engine, head: bytes) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set_versionstamped_key(vs_key(head), b"")
    tr.commit()
    return future.result(timeout=5), tr.get_committed_version()


def test_get_versionstamp_resolves_after_commit_to_ten_bytes(engine):
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set(engine.key("a"), b"a")
    assert not future.done()
    tr.commit()
    stamp = future.result(timeout=5)
    assert isinstance(stamp, bytes) and len(stamp) == 10


def test_versionstamp_begins_with_the_commit_version(engine):
    stamp, version = commit_one_stamp(engine, engine.key("vs/"))
    assert version > 0
    assert stamp[:8] == version.to_bytes(8, "big")


def test_read_only_transaction_has_no_versionstamp(engine):
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.get(engine.key("a"))
    tr.commit()
    error = future.exception(timeout=5)
    assert type(error) is NoCommitVersion and error.code == 2021


def test_versionstamp_of_a_failed_commit_fails_instead_of_resolving(engine):
    """FDB fails the future with transaction_invalid_version (2020), not the commit's error;
    what callers rely on is that it fails promptly and never yields a versionstamp."""
    futures = []

    def read(tr):  # type: ignore[no-untyped-def]
        tr.get(engine.key("m"))
        futures.append(tr.get_versionstamp())

    assert commit_conflicts(
        engine.db, engine.key("own"), read, lambda tr: tr.set(engine.key("m"), b"x")
    )
    error = futures[0].exception(timeout=5)
    assert isinstance(error, FDBError)


def test_set_versionstamped_key_writes_the_committed_versionstamp_and_keeps_user_version(
    engine,
):
    head = engine.key("vs/")
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set_versionstamped_key(vs_key(head, user_version=7, tail=b"/tail"), b"value")
    tr.set_versionstamped_key(vs_key(head, user_version=3, tail=b"/tail"), b"other")
    tr.commit()
    stamp = future.result(timeout=5)
    assert engine.read_prefix(b"vs/") == [
        (head + stamp + b"\x00\x03/tail", b"other"),
        (head + stamp + b"\x00\x07/tail", b"value"),
    ]


def test_set_versionstamped_value_writes_the_committed_versionstamp(engine):
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set_versionstamped_value(
        engine.key("v"), vs_value(b"head", user_version=9, tail=b"tail")
    )
    tr.commit()
    stamp = future.result(timeout=5)
    assert engine.read(engine.key("v")) == b"head" + stamp + b"\x00\x09tail"


def test_versionstamped_value_at_offset_zero(engine):
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set_versionstamped_value(engine.key("v"), vs_value(b""))
    tr.commit()
    assert engine.read(engine.key("v")) == future.result(timeout=5) + b"\x00\x00"


def test_versionstamps_and_commit_versions_strictly_increase_in_one_thread(engine):
    results = [commit_one_stamp(engine, engine.key("vs/")) for _ in range(20)]
    stamps = [stamp for stamp, _ in results]
    versions = [version for _, version in results]
    assert stamps == sorted(set(stamps))
    assert versions == sorted(set(versions))
    assert [
        k[len(engine.key("vs/")) :][:10] for k, _ in engine.read_prefix(b"vs/")
    ] == stamps


def test_later_transaction_reads_at_or_after_an_earlier_commit(engine):
    _, version = commit_one_stamp(engine, engine.key("vs/"))
    assert engine.db.create_transaction().get_read_version() >= version


def test_read_only_transaction_has_committed_version_minus_one(engine):
    tr = engine.db.create_transaction()
    tr.get(engine.key("a"))
    tr.commit()
    assert tr.get_committed_version() == -1


def _check_commit_order(results: list[tuple[bytes, int]]) -> None:
    stamps = [stamp for stamp, _ in results]
    assert len(set(stamps)) == len(stamps), "versionstamps must be unique"
    ordered = sorted(results)
    assert [v for _, v in ordered] == sorted(v for _, v in results), (
        "versionstamp order must match commit-version order"
    )
    for stamp, version in results:
        assert len(stamp) == 10 and stamp[:8] == version.to_bytes(8, "big")


def test_versionstamps_are_unique_and_ordered_across_threads(engine):
    threads, per_thread = 4, 50
    head = engine.key("vs/")
    per: list[list[tuple[bytes, int]]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        barrier.wait()
        for _ in range(per_thread):
            per[n].append(commit_one_stamp(engine, head))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    for own in per:
        assert len(own) == per_thread
        assert (
            own == sorted(own) and len(set(own)) == per_thread
        )  # each thread's commit order
    everything = [r for own in per for r in own]
    _check_commit_order(everything)
    written = [k[len(head) :][:10] for k, _ in engine.read_prefix(b"vs/")]
    assert written == sorted(stamp for stamp, _ in everything)


def test_versionstamps_are_unique_and_ordered_across_processes(engine):
    procs = [engine.spawn("versionstamps", "100", f"p{n}") for n in range(3)]
    engine.release(*procs)
    per = [[(bytes.fromhex(s), v) for s, v in engine.result(p)] for p in procs]
    for own in per:
        assert len(own) == 100
        assert (
            own == sorted(own) and len(set(own)) == 100
        )  # each process's commit order
    everything = [r for own in per for r in own]
    _check_commit_order(everything)
    head = engine.key("vs/")
    written = engine.read_prefix(b"vs/")
    assert [k[len(head) :][:10] for k, _ in written] == sorted(s for s, _ in everything)
    # Each key holds the tag of the process that wrote it, right after its versionstamp.
    assert all(k[len(head) + 10 :] == v for k, v in written)


def test_versionstamps_follow_serialized_commit_order_across_processes(engine):
    """Read-modify-write increments serialize the commits: the n-th increment committed before
    the (n+1)-th, so the versionstamps logged by increment number must strictly increase."""
    procs = [engine.spawn("serial", "20") for _ in range(3)]
    engine.release(*procs)
    for proc in procs:
        engine.result(proc)
    assert engine.read(engine.key("counter")) == (60).to_bytes(8, "big")
    log = engine.read_prefix(b"log/")
    assert [int.from_bytes(k[-8:], "big") for k, _ in log] == list(range(60))
    stamps = [v[:10] for _, v in log]
    assert all(len(v) == 12 for _, v in log)
    assert stamps == sorted(set(stamps))


def test_tuple_layer_versionstamped_key_and_value_round_trip(engine):
    """``keys.pack_with_versionstamp`` produces what the engine consumes: the stored key and
    value unpack to the committed versionstamp with the user version kept."""
    from fairway_django.engine import keys

    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    packed_key = keys.pack_with_versionstamp(
        ("events", keys.Versionstamp.incomplete(5), "tail"), prefix=engine.prefix
    )
    packed_value = keys.pack_with_versionstamp(("at", keys.Versionstamp.incomplete(6)))
    tr.set_versionstamped_key(packed_key, b"event")
    tr.set_versionstamped_value(engine.key("pointer"), packed_value)
    tr.commit()
    stamp = future.result(timeout=5)
    [(key, value)] = engine.read_prefix(keys.pack(("events",)))
    assert value == b"event"
    assert keys.unpack(key, len(engine.prefix)) == (
        "events",
        keys.Versionstamp(stamp, 5),
        "tail",
    )
    assert keys.unpack(engine.read(engine.key("pointer"))) == (
        "at",
        keys.Versionstamp(stamp, 6),
    )


def test_set_versionstamped_keys_puts_the_versionstamp_between_each_entrys_parts(engine):
    head = engine.key("many/")
    tr = engine.db.create_transaction()
    future = tr.get_versionstamp()
    tr.set_versionstamped_keys(
        [(head, order.to_bytes(2, "big") + b"/x", b"%d" % order) for order in range(3)]
        + [(head + b"z", b"", b"bare")]
    )
    tr.commit()
    stamp = future.result(timeout=5)
    found = engine.db.transact(lambda t: list(t.get_range(head, head + b"\xff")))
    assert found == [
        *((head + stamp + order.to_bytes(2, "big") + b"/x", b"%d" % order) for order in range(3)),
        (head + b"z" + stamp, b"bare"),
    ]


@pytest.mark.parametrize(
    ("entry", "error", "code"),
    [
        (lambda e: (e.key("k" * 10_000), b"", b""), KeyTooLarge, 2102),
        (lambda e: (e.key("k"), b"", b"v" * 100_001), ValueTooLarge, 2103),
        (lambda e: (b"\xff", b"", b""), KeyOutsideLegalRange, 2004),
    ],
    ids=["key too large", "value too large", "system key"],
)
def test_set_versionstamped_keys_refuses_a_bad_entry_as_set_versionstamped_key(
    engine, entry, error, code
):
    """Checked as each key would be (at the call or at commit, as FDB's client may defer it);
    nothing of the transaction is applied."""
    tr = engine.db.create_transaction()
    tr.set(engine.key("other"), b"o")
    with raises_exactly(error, code):
        tr.set_versionstamped_keys([(engine.key("ok/"), b"", b""), entry(engine)])
        tr.commit()
    assert engine.read_prefix() == []
