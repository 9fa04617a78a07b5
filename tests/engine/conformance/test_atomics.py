"""Atomic add: little-endian, as wide as its parameter, applied at commit without conflicts.

FDB's rule for ``add``: a missing value counts as zero; an existing value shorter than the
parameter is extended with zero bytes, a longer one is truncated to the parameter's width;
the sum wraps around at that width.
"""

from __future__ import annotations

import threading

import pytest

from fairway_django.engine import FDBError


def le(n: int, width: int = 8) -> bytes:
    return n.to_bytes(width, "little")


@pytest.mark.parametrize(
    ("existing", "param", "result"),
    [
        (None, b"\x05", b"\x05"),
        (None, le(7), le(7)),
        (b"", b"\x01\x00", b"\x01\x00"),
        (le(5), le(3), le(8)),
        (b"\xff\x00", b"\x01\x00", b"\x00\x01"),  # carry into the next byte
        (b"\xff\xff", b"\x01\x00", b"\x00\x00"),  # wraps at the parameter's width
        (b"\xff\xff", b"\x01", b"\x00"),  # a longer existing value is truncated
        (b"\x01", le(1, 4), le(2, 4)),  # a shorter existing value is extended
        (le(2**63), le(2**63), le(0)),
    ],
    ids=[
        "missing-1",
        "missing-8",
        "empty",
        "plain",
        "carry",
        "wrap",
        "truncate",
        "extend",
        "u64",
    ],
)
def test_add_is_little_endian_with_the_width_of_its_parameter(
    engine, existing, param, result
):
    key = engine.key("n")
    if existing is not None:
        engine.put(key, existing)
    engine.db.transact(lambda tr: tr.add(key, param))
    assert engine.read(key) == result


def test_add_after_clear_in_the_same_transaction_starts_from_zero(engine):
    key = engine.key("n")
    engine.put(key, le(40))
    tr = engine.db.create_transaction()
    tr.clear(key)
    tr.add(key, le(2))
    assert tr.get(key) == le(2)
    tr.commit()
    assert engine.read(key) == le(2)


def test_set_after_add_in_the_same_transaction_wins(engine):
    key = engine.key("n")
    tr = engine.db.create_transaction()
    tr.add(key, le(2))
    tr.set(key, le(9))
    tr.commit()
    assert engine.read(key) == le(9)


def test_blind_add_does_not_conflict_with_a_concurrent_write_of_the_same_key(engine):
    key = engine.key("n")
    engine.put(key, le(1))
    adder = engine.db.create_transaction()
    adder.get_read_version()
    adder.add(key, le(10))
    engine.put(key, le(100))
    adder.commit()
    assert engine.read(key) == le(110)  # applied to the value current at commit


def test_concurrent_adds_from_threads_and_processes_sum_exactly_without_conflicts(
    engine,
):
    """Every add commits on its first attempt (no retry loop: a NotCommitted would surface)."""
    threads, processes, per_worker = 4, 2, 60
    key = engine.key("total")
    procs = [
        engine.spawn("add", b"total".hex(), str(per_worker)) for _ in range(processes)
    ]
    errors: list[FDBError] = []
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        barrier.wait()
        try:
            for _ in range(per_worker):
                tr = engine.db.create_transaction()
                tr.add(key, le(1))
                tr.commit()
        except FDBError as error:
            errors.append(error)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    engine.release(*procs)
    for t in pool:
        t.join(timeout=60)
    for proc in procs:
        assert engine.result(proc) == {"adds": per_worker}
    assert errors == []
    assert engine.read(key) == le((threads + processes) * per_worker)
