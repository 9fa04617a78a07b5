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
#: The largest position's number.
LAST_NUMBER: Final = (1 << (8 * POSITION_BYTES)) - 1


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

    @property
    def number(self) -> int:
        """The position as a whole number: positions compare as their numbers do, and the
        numbers between two positions are the places an event could sit between them."""
        return int.from_bytes(self.raw, "big")

    @classmethod
    def of_number(cls, number: int) -> Position:
        """The position whose :attr:`number` is ``number`` (0 to LAST_NUMBER)."""
        if not 0 <= number <= LAST_NUMBER:
            raise InvalidPosition(f"{number} is outside the positions (0 to {LAST_NUMBER})")
        return cls(number.to_bytes(POSITION_BYTES, "big"))

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


def successor(position: Position | None) -> Position | None:
    """The place just after ``position``, so ``after=predecessor(p)`` reads from ``p`` on and
    ``before=successor(p)`` reads from ``p`` back. None (no bound) for None or the last place."""
    if position is None or position.number == LAST_NUMBER:
        return None
    return Position.of_number(position.number + 1)


def predecessor(position: Position | None) -> Position | None:
    """The place just before ``position``; None (no bound) for None or the first place."""
    if position is None or position.number == 0:
        return None
    return Position.of_number(position.number - 1)
