"""A transaction's own writes: the ordered mutations to commit, and the view reads overlay.

FDB transactions read their own writes. The overlay keeps, per written key, what the
transaction knows of its value: set bytes, cleared (None), atomic adds on a base not yet read,
or unreadable (a versionstamped value, known only at commit). Cleared ranges are kept apart so
that clearing a range costs nothing per key.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from ..errors import AccessedUnreadable
from .mutations import Mutation, Op, add


class PendingAdds:
    """Atomic adds on a key whose stored value this transaction has not read."""

    __slots__ = ("params",)

    def __init__(self, param: bytes) -> None:
        self.params = [param]

    def resolve(self, base: bytes | None) -> bytes:
        for param in self.params:
            base = add(base, param)
        assert base is not None
        return base


class _Unreadable:
    """A key holding a versionstamped value: its value exists only once committed."""


UNREADABLE = _Unreadable()
#: ``lookup`` found nothing local: the stored value is the answer.
UNKNOWN = object()

Entry = bytes | None | PendingAdds | _Unreadable


#: Versionstamped keys are unknown until commit, and a cleared range is kept as a range.
_ADDS_ENTRY = frozenset(Op) - {Op.SET_VERSIONSTAMPED_KEY, Op.CLEAR_RANGE}


class WriteMap:
    def __init__(self) -> None:
        self.mutations: list[Mutation] = []
        self.size = 0
        self._entries: dict[bytes, Entry] = {}
        self._sorted_keys: list[bytes] | None = []  # rebuilt lazily after a new key
        self._cleared: list[tuple[bytes, bytes]] = []  # disjoint, sorted by begin

    def record(self, mutation: Mutation) -> None:
        self.mutations.append(mutation)
        self.size += len(mutation.key) + len(mutation.param)
        op, key, param, _ = mutation  # SET_VERSIONSTAMPED_KEYS: recorded by the transaction
        if op in _ADDS_ENTRY and key not in self._entries:
            self._sorted_keys = None
        if op is Op.SET:
            self._entries[key] = param
        elif op is Op.CLEAR:
            self._entries[key] = None
        elif op is Op.CLEAR_RANGE:
            for doomed in self._keys_in(key, param):
                del self._entries[doomed]
            self._sorted_keys = None
            self._clear(key, param)
        elif op is Op.ADD:
            self._entries[key] = self._after_add(key, param)
        elif op is Op.SET_VERSIONSTAMPED_VALUE:
            self._entries[key] = UNREADABLE

    def lookup(self, key: bytes) -> Entry | object:
        """What the transaction knows of ``key``: an entry, or ``UNKNOWN``."""
        entry = self._entries.get(key, UNKNOWN)
        if entry is UNKNOWN and self._is_cleared(key):
            return None
        if entry is UNREADABLE:
            raise AccessedUnreadable(f"key {key!r} holds a versionstamped value until commit")
        return entry

    def touches(self, begin: bytes, end: bytes) -> bool:
        if self._keys_in(begin, end):
            return True
        return any(b < end and begin < e for b, e in self._cleared)

    def overlay(
        self, stored: Iterator[tuple[bytes, bytes]], begin: bytes, end: bytes, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        """Merge the stored pairs of ``[begin, end)`` with this transaction's writes."""
        keys = self._keys_in(begin, end)
        local = iter(reversed(keys) if reverse else keys)
        pending = next(local, None)
        for key, value in stored:
            while pending is not None and (pending > key if reverse else pending < key):
                yield from self._local(pending, None)
                pending = next(local, None)
            if pending == key:
                yield from self._local(key, value)
                pending = next(local, None)
            elif not self._is_cleared(key):
                yield key, value
        while pending is not None:
            yield from self._local(pending, None)
            pending = next(local, None)

    def _local(self, key: bytes, stored: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        entry = self._entries[key]
        if isinstance(entry, _Unreadable):
            raise AccessedUnreadable(f"key {key!r} holds a versionstamped value until commit")
        if isinstance(entry, PendingAdds):
            yield key, entry.resolve(stored)
        elif entry is not None:
            yield key, entry

    def _after_add(self, key: bytes, param: bytes) -> Entry:
        entry = self._entries.get(key, UNKNOWN)
        if entry is UNKNOWN:
            return add(None, param) if self._is_cleared(key) else PendingAdds(param)
        if isinstance(entry, PendingAdds):
            entry.params.append(param)
            return entry
        if isinstance(entry, _Unreadable):
            return entry
        assert entry is None or isinstance(entry, bytes)
        return add(entry, param)

    def _keys_in(self, begin: bytes, end: bytes) -> list[bytes]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self._entries)
        keys = self._sorted_keys
        return keys[bisect_left(keys, begin) : bisect_left(keys, end)]

    def _is_cleared(self, key: bytes) -> bool:
        if not self._cleared:
            return False
        index = bisect_right(self._cleared, key, key=lambda r: r[0]) - 1
        return index >= 0 and key < self._cleared[index][1]

    def _clear(self, begin: bytes, end: bytes) -> None:
        kept = []
        for b, e in self._cleared:
            if e < begin or b > end:
                kept.append((b, e))
            else:
                begin, end = min(begin, b), max(end, e)
        kept.append((begin, end))
        kept.sort()
        self._cleared = kept
