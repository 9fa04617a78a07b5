"""Small helpers shared by the conformance tests (plain functions, no engine state)."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator

import pytest

from fairway_django.engine import Database, FDBError, NotCommitted, Transaction


@contextlib.contextmanager
def raises_exactly(
    cls: type[FDBError], code: int
) -> Iterator[pytest.ExceptionInfo[FDBError]]:
    """Like ``pytest.raises`` but the error must be exactly ``cls`` and carry ``code``."""
    with pytest.raises(cls) as caught:
        yield caught
    assert type(caught.value) is cls, (
        f"expected exactly {cls.__name__}, got {caught.value!r}"
    )
    assert caught.value.code == code


def vs_key(head: bytes, user_version: int = 0, tail: bytes = b"") -> bytes:
    """A key for ``set_versionstamped_key``: ``head``, the 10-byte placeholder, a 2-byte user
    version, ``tail``, then the 4-byte little-endian offset of the placeholder (API >= 520)."""
    return (
        head
        + b"\xff" * 10
        + user_version.to_bytes(2, "big")
        + tail
        + struct.pack("<I", len(head))
    )


def vs_value(head: bytes, user_version: int = 0, tail: bytes = b"") -> bytes:
    """A value for ``set_versionstamped_value``, laid out as :func:`vs_key`."""
    return vs_key(head, user_version, tail)


def commit_conflicts(
    db: Database,
    own_key: bytes,
    read: Callable[[Transaction], object],
    write: Callable[[Transaction], object],
) -> bool:
    """Run the classic race and say whether the reader's commit failed with not_committed.

    T1 runs ``read`` (which fixes its read version), T2 runs ``write`` and commits, then T1
    writes ``own_key`` (so it is not read-only) and commits.
    """
    t1 = db.create_transaction()
    t1.get_read_version()
    read(t1)
    t2 = db.create_transaction()
    write(t2)
    t2.commit()
    t1.set(own_key, b"t1")
    try:
        t1.commit()
    except NotCommitted as error:
        assert type(error) is NotCommitted and error.code == 1020 and error.retryable
        return True
    return False
