"""Fault injection: commits fail as FDB's can, and the retry loop gets through them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairway_django.engine import (
    CommitUnknownResult,
    NotCommitted,
    TransactionTimedOut,
    TransactionTooOld,
    open_engine,
)
from fairway_django.engine.embedded import EmbeddedDatabase, Fault, FaultInjection


def _always(tmp_path: Path, fault: Fault) -> EmbeddedDatabase:
    return EmbeddedDatabase(str(tmp_path / "s"), faults=FaultInjection(rate=1.0, kinds=(fault,)))


def _stored(tmp_path: Path, key: bytes) -> bytes | None:
    db = EmbeddedDatabase(str(tmp_path / "s"))
    return db.transact(lambda tr: tr.get(key))


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault.NOT_COMMITTED, NotCommitted), (Fault.TRANSACTION_TOO_OLD, TransactionTooOld)],
)
def test_injected_failures_apply_nothing(
    tmp_path: Path, fault: Fault, error: type[Exception]
) -> None:
    tr = _always(tmp_path, fault).create_transaction()
    tr.set(b"k", b"v")
    with pytest.raises(error, match="injected fault"):
        tr.commit()
    assert _stored(tmp_path, b"k") is None


def test_unknown_result_can_hide_a_commit_that_happened(tmp_path: Path) -> None:
    tr = _always(tmp_path, Fault.UNKNOWN_RESULT_APPLIED).create_transaction()
    tr.set(b"k", b"v")
    with pytest.raises(CommitUnknownResult, match="was applied"):
        tr.commit()
    assert _stored(tmp_path, b"k") == b"v"


def test_unknown_result_can_hide_a_commit_that_did_not_happen(tmp_path: Path) -> None:
    tr = _always(tmp_path, Fault.UNKNOWN_RESULT_NOT_APPLIED).create_transaction()
    tr.set(b"k", b"v")
    with pytest.raises(CommitUnknownResult, match="not applied"):
        tr.commit()
    assert _stored(tmp_path, b"k") is None


def test_read_only_commits_never_fail(tmp_path: Path) -> None:
    db = _always(tmp_path, Fault.NOT_COMMITTED)
    assert db.transact(lambda tr: tr.get(b"k")) is None


def test_retry_loop_survives_a_high_fault_rate_with_an_idempotent_function(
    tmp_path: Path,
) -> None:
    """Writing a known value is idempotent, so every retry is safe: all keys end up written."""
    db = open_engine(f"embedded://{tmp_path}/s?durability=none&faults=0.5&fault_seed=7")
    for i in range(50):
        db.transact(lambda tr, i=i: tr.set(b"k%02d" % i, b"v"))
    assert db.transact(lambda tr: len(list(tr.get_range(b"k", b"l")))) == 50


def test_counting_with_blind_adds_under_faults_shows_why_idempotency_matters(
    tmp_path: Path,
) -> None:
    """A retried add after an applied-but-unknown commit counts twice: the layers above must
    make appends idempotent, which is what this fault exists to prove."""
    db = open_engine(f"embedded://{tmp_path}/s?durability=none&faults=0.6&fault_seed=3")
    attempts = 200
    for _ in range(attempts):
        db.transact(lambda tr: tr.add(b"n", (1).to_bytes(8, "little")))
    total = int.from_bytes(db.transact(lambda tr: tr.get(b"n")) or b"", "little")
    assert total > attempts


def test_the_same_seed_injects_the_same_faults() -> None:
    first, second = FaultInjection(rate=0.5, seed=11), FaultInjection(rate=0.5, seed=11)
    assert [first.draw() for _ in range(100)] == [second.draw() for _ in range(100)]
    every_kind = FaultInjection(rate=0.5, seed=1)
    assert {every_kind.draw() for _ in range(200)} == {None, *Fault}


def test_a_timeout_during_commit_can_hide_a_commit_that_happened(tmp_path: Path) -> None:
    """FDB's timeout cancels the transaction, and a cancelled commit may still happen."""
    tr = _always(tmp_path, Fault.TIMED_OUT_APPLIED).create_transaction(timeout=30)
    tr.set(b"k", b"v")
    with pytest.raises(TransactionTimedOut, match="was applied") as raised:
        tr.commit()
    assert raised.value.code == 1031 and not raised.value.retryable
    assert _stored(tmp_path, b"k") == b"v"


def test_a_transaction_without_a_timeout_never_times_out_by_fault(tmp_path: Path) -> None:
    """Without a timeout FDB never raises 1031, so the fault draws another kind instead."""
    db = EmbeddedDatabase(
        str(tmp_path / "s"),
        faults=FaultInjection(rate=1.0, seed=5, kinds=(Fault.TIMED_OUT_APPLIED,)),
    )
    tr = db.create_transaction()
    tr.set(b"k", b"v")
    tr.commit()  # no other kind to draw: no fault at all
    mixed = FaultInjection(rate=1.0, seed=5)
    assert Fault.TIMED_OUT_APPLIED not in {mixed.draw_for(can_time_out=False) for _ in range(200)}
    assert Fault.TIMED_OUT_APPLIED in {mixed.draw_for(can_time_out=True) for _ in range(200)}
