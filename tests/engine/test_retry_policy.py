"""The retry loop's backoff, as FDB's ``on_error`` computes it (``Transaction::onError``,
``getBackoff``), which the embedded engine follows and the FDB engine leaves to FDB."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fairway_django.engine import NotCommitted, errors, open_engine
from fairway_django.engine.retry import RetryPolicy


def waits(policy: RetryPolicy, codes: list[int]) -> list[tuple[float, float]]:
    """Each wait after the errors ``codes`` in turn, and the ceiling it was drawn under."""
    backoff = policy.backoff()
    out = []
    for code in codes:
        ceiling = backoff.current
        out.append((backoff.after(errors.error_for_code(code)), ceiling))
    return out


def test_the_backoff_starts_at_10_ms_and_doubles_up_to_one_second() -> None:
    ceilings = [ceiling for _, ceiling in waits(RetryPolicy(), [1020] * 10)]
    assert ceilings == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0, 1.0]


def test_each_wait_is_a_random_share_of_its_ceiling() -> None:
    random.seed(3)
    drawn = waits(RetryPolicy(), [1021] * 200)
    assert all(0 <= wait <= ceiling for wait, ceiling in drawn)
    assert min(wait / ceiling for wait, ceiling in drawn) < 0.1  # the whole share, from 0
    assert max(wait / ceiling for wait, ceiling in drawn) > 0.9


def test_an_overloaded_cluster_lets_the_backoff_grow_to_30_seconds() -> None:
    ceilings = [c for _, c in waits(RetryPolicy(), [1078] * 14)]
    assert ceilings[-1] == 30.0 and ceilings[8] == 2.56
    # The state carries over: the next conflict waits a share of that, then shrinks back.
    after = waits(RetryPolicy(), [1042] * 14 + [1020, 1020])
    assert [c for _, c in after[-2:]] == [30.0, 1.0]


def test_transaction_too_old_waits_10_ms_and_leaves_the_backoff_alone() -> None:
    drawn = waits(RetryPolicy(), [1020, 1020, 1007, 1009, 1020])
    assert [w for w, _ in drawn[2:4]] == [0.01, 0.01]
    assert [c for _, c in drawn] == [0.01, 0.02, 0.04, 0.04, 0.04]


def test_max_backoff_caps_the_backoff_as_fdbs_max_retry_delay() -> None:
    assert [c for _, c in waits(RetryPolicy(max_backoff=0.05), [1020] * 5)] == [
        0.01, 0.02, 0.04, 0.05, 0.05
    ]
    assert waits(RetryPolicy(max_backoff=0.0), [1007, 1020]) == [(0.0, 0.0), (0.0, 0.0)]


def test_the_embedded_retry_loop_waits_as_fdbs_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?durability=none")
    pauses: list[float] = []
    monkeypatch.setattr("fairway_django.engine.base.time.sleep", pauses.append)
    attempts = []

    def conflicting(tr):  # type: ignore[no-untyped-def]
        attempts.append(tr)
        tr.get(b"m")
        if len(attempts) <= 4:
            db.transact(lambda rival: rival.set(b"m", b"%d" % len(attempts)))
        tr.set(b"m", b"mine")

    db.transact(conflicting)
    assert len(pauses) == 4
    assert all(0 <= pause <= 0.01 * 2**n for n, pause in enumerate(pauses))
    with pytest.raises(NotCommitted):
        attempts.clear()
        db.transact(conflicting, retry_limit=2)
    db.close()


def test_no_retry_limit_means_fdbs_default_of_retrying_for_ever(tmp_path: Path) -> None:
    db = open_engine(f"embedded://{tmp_path}/s?durability=none")
    db.retry = RetryPolicy(retry_limit=None, initial_backoff=0.0)
    runs = []

    def conflicting(tr):  # type: ignore[no-untyped-def]
        runs.append(1)
        tr.get(b"m")
        if len(runs) <= 150:  # more re-runs than our default limit of 100
            db.transact(lambda rival: rival.set(b"m", b"%d" % len(runs)))
        tr.set(b"m", b"mine")

    db.transact(conflicting)
    assert len(runs) == 151
    db.close()
