"""Positions: totally ordered, hashable, and round-tripping through their text form.

Clients keep positions as text (cursors in URLs and JSON), so ``Position.parse(str(p)) == p``
must hold and sorting the texts must sort the positions.
"""

from __future__ import annotations

import random

import pytest

from fairway_django.dcb import AppendCondition, DcbStore, Event, InvalidPosition, Position, Query
from fairway_django.dcb.position import LAST_NUMBER, predecessor, successor


@pytest.fixture
def positions(store: DcbStore) -> list[Position]:
    """Real positions from several appends, in log order."""
    for size in (1, 3, 2, 1):
        store.append([Event("T", f"{size}/{i}".encode()) for i in range(size)])
    return [e.position for e in store.read(Query.all())]


def test_positions_read_back_are_strictly_increasing(positions: list[Position]) -> None:
    assert len(positions) == 7
    assert all(a < b for a, b in zip(positions, positions[1:]))
    assert sorted(reversed(positions)) == positions


def test_text_round_trip(positions: list[Position]) -> None:
    for position in positions:
        text = str(position)
        assert isinstance(text, str)
        assert Position.parse(text) == position
        assert str(Position.parse(text)) == text


def test_sorting_texts_sorts_positions(positions: list[Position]) -> None:
    """Texts sort exactly as the positions do, for real positions and for arbitrary ones."""
    rng = random.Random(5)
    made = [Position.parse(f"{rng.getrandbits(96):024x}") for _ in range(300)]
    made += [Position.parse("0" * 24), Position.parse("f" * 24), Position.parse("0" * 23 + "1")]
    for sample in (positions, made):
        shuffled = list(sample)
        rng.shuffle(shuffled)
        by_position = sorted(shuffled)
        by_text = sorted(shuffled, key=str)
        assert by_position == by_text


def test_total_order_operators(positions: list[Position]) -> None:
    a, b = positions[0], positions[1]
    assert a < b and a <= b and b > a and b >= a and a != b
    assert a <= a and a >= a and not a < a and not a > a
    twin = Position.parse(str(a))
    assert twin == a and twin <= a and twin >= a and twin is not a
    assert max(positions) == positions[-1] and min(positions) == positions[0]


def test_positions_are_hashable_values(positions: list[Position]) -> None:
    twins = [Position.parse(str(p)) for p in positions]
    assert {hash(p) for p in positions} == {hash(p) for p in twins}
    assert set(positions) == set(twins)
    assert len(set(positions + twins)) == len(positions)
    lookup = {p: i for i, p in enumerate(positions)}
    assert [lookup[t] for t in twins] == list(range(len(positions)))


def test_positions_do_not_compare_with_other_types(positions: list[Position]) -> None:
    p = positions[0]
    assert p != str(p)  # type: ignore[comparison-overlap]
    assert p != None
    with pytest.raises(TypeError):
        p < str(p)  # type: ignore[operator]  # noqa: B015
    with pytest.raises(TypeError):
        p >= 0  # type: ignore[operator]  # noqa: B015


def test_append_returns_the_position_read_back(store: DcbStore) -> None:
    returned = store.append([Event("T", b"a"), Event("T", b"b")])
    assert returned == list(store.read())[-1].position
    assert Position.parse(str(returned)) == returned


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0" * 23,  # too short
        "0" * 25,  # too long
        "0" * 22,
        "0" * 48,
        "00000000000000020000000A",  # uppercase
        "ABCDEF0123456789ABCDEF01",
        "0000000000000002000000g1",  # not hex
        "0x00000000000000020000001",
        "00000000000000020000000-",
        " 000000000000000200000001",  # whitespace
        "000000000000000200000001\n",
        "000000000000000200000001 ",
        "0000 0000000000200000001",
        "００００００００００００００００００００００００",  # full-width digits
    ],
)
def test_malformed_position_texts_are_refused(text: str) -> None:
    with pytest.raises(InvalidPosition, match="position") as raised:
        Position.parse(text)
    assert raised.value.code == "invalid_position"


@pytest.mark.parametrize(
    "value",
    [None, 5, b"000000000000000200000001", bytes(12), ["0" * 24]],
    ids=["None", "int", "bytes-text", "bytes-raw", "list"],
)
def test_parse_refuses_what_is_not_a_string(value: object) -> None:
    with pytest.raises(InvalidPosition):
        Position.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "after",
    ["000000000000000200000001", b"\x00" * 12, 5, 1.5, object()],
    ids=["text", "bytes", "int", "float", "object"],
)
def test_read_and_subscribe_refuse_an_after_that_is_not_a_position(
    store: DcbStore, after: object
) -> None:
    store.append([Event("T", b"x")])
    with pytest.raises(InvalidPosition):
        list(store.read(after=after))  # type: ignore[arg-type]
    with pytest.raises(InvalidPosition):
        list(store.read(after=after, backwards=True))  # type: ignore[arg-type]
    with pytest.raises(InvalidPosition):
        with store.subscribe(after=after) as subscription:  # type: ignore[arg-type]
            next(iter(subscription))


def test_an_after_given_as_text_says_how_to_make_it_a_position(store: DcbStore) -> None:
    """The common slip (a cursor straight from a URL) gets the fix in its message."""
    text = "000000000000000200000001"
    with pytest.raises(InvalidPosition, match=r"Position\.parse\(\)"):
        list(store.read(after=text))  # type: ignore[arg-type]
    with pytest.raises(InvalidPosition, match=r"Position\.parse\(\)"):
        store.subscribe(after=text)  # type: ignore[arg-type]
    with pytest.raises(InvalidPosition, match=r"Position\.parse\(\)"):
        AppendCondition(Query.all(), after=text)  # type: ignore[arg-type]


def test_neighbours_bound_reads_to_one_position(store: DcbStore) -> None:
    """``after=predecessor(p)`` starts a read at ``p``; ``successor(p)`` backwards ends at it."""
    first = store.append([Event("T", b"1")])
    second = store.append([Event("T", b"2")])
    assert next(store.read(after=predecessor(second), limit=1)).position == second
    assert next(store.read(after=successor(first), backwards=True, limit=1)).position == first
    assert Position.of_number(second.number) == second
    assert successor(predecessor(second)) == second
    assert predecessor(Position.of_number(0)) is None and predecessor(None) is None
    assert successor(Position.of_number(LAST_NUMBER)) is None
    with pytest.raises(InvalidPosition, match="outside the positions"):
        Position.of_number(LAST_NUMBER + 1)
