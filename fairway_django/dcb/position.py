"""Positions in the log: where an event sits, totally ordered across every process.

A position is the commit's 10-byte versionstamp followed by the event's 2-byte order within
its append, so positions increase in commit order and have gaps. Its text form is 24 lowercase
hex digits; texts sort as the positions do, which keeps them usable as cursors in URLs and JSON.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from .errors import InvalidPosition

#: Bytes in a position: versionstamp (10) + order within the append (2).
POSITION_BYTES: Final = 12
_TEXT = re.compile(r"[0-9a-f]{24}")


class _PositionFields(NamedTuple):
    raw: bytes


class Position(_PositionFields):
    """An event's place in the log. Compare, hash, ``str()`` and ``Position.parse`` it.

    A one-field named tuple: reads create one per event, and tuples compare and hash in C.
    """

    __slots__ = ()

    def __new__(cls, raw: bytes) -> Position:
        if type(raw) is not bytes or len(raw) != POSITION_BYTES:
            raise InvalidPosition(f"a position is {POSITION_BYTES} bytes, not {raw!r}")
        return tuple.__new__(cls, (raw,))

    @classmethod
    def parse(cls, text: str) -> Position:
        """The position ``str(position)`` printed; anything else raises :class:`InvalidPosition`."""
        if not isinstance(text, str) or _TEXT.fullmatch(text) is None:
            raise InvalidPosition(
                f"{text!r} is not a position: expected {2 * POSITION_BYTES} lowercase hex digits"
            )
        return cls(bytes.fromhex(text))

    def __str__(self) -> str:
        return self.raw.hex()

    def __repr__(self) -> str:
        return f"Position({self.raw.hex()!r})"


def check_after(after: object) -> None:
    """``after`` arguments take a Position or None; text is a common slip, so say what to do."""
    if after is not None and not isinstance(after, Position):
        hint = "; use Position.parse() for text" if isinstance(after, str) else ""
        raise InvalidPosition(
            f"after must be a Position or None, not {type(after).__name__}{hint}"
        )
