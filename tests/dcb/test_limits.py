"""The documented limits: each is the largest value accepted, and one more is refused with an
error naming it, writing nothing. Large events (referenced from the log by their index entries)
and small ones (copied into them) read back identically through every kind of query."""

from __future__ import annotations

import pytest

from fairway_django import dcb
from fairway_django.dcb import (
    DcbStore,
    Event,
    EventTooLarge,
    InvalidAppend,
    InvalidEvent,
    Query,
    QueryItem,
    TooManyTags,
)
from fairway_django.dcb.limits import MAX_APPEND_BYTES

from .support import assert_nothing_written, expected_read


def test_the_documented_values() -> None:
    assert dcb.MAX_TAGS_PER_EVENT == 16
    assert dcb.MAX_TAG_BYTES == 256
    assert dcb.MAX_TYPE_BYTES == 256
    assert dcb.MAX_EVENT_BYTES == 100_000
    assert dcb.EXACT_TAG_COMBINATION == 2
    assert dcb.MAX_EVENTS_PER_APPEND == 65_536
    assert dcb.MAX_EVENT_BYTES < MAX_APPEND_BYTES


@pytest.fixture
def prior(store: DcbStore) -> DcbStore:
    """A store with one event, so that "nothing written" is checked against a non-empty log."""
    store.append([Event("Prior", b"")])
    return store


def refused(store: DcbStore, events: list[Event], error: type[Exception], words: str) -> None:
    head = store.head()
    with pytest.raises(error, match=f"(?i){words}"):
        store.append(events)
    assert_nothing_written(store, head)


# --- tags and types -------------------------------------------------------------------------


def test_sixteen_tags_are_accepted_and_queryable(prior: DcbStore) -> None:
    tags = [f"tag{i:02}" for i in range(16)]
    event = Event("T", b"sixteen", tags)
    prior.append([event])
    for query_tags in (tags[:1], tags[3:5], tags[13:], tags, tags[::-1][:7]):
        assert [e.event for e in prior.read(Query([QueryItem(tags=query_tags)]))] == [event]


def test_seventeen_tags_are_refused(prior: DcbStore) -> None:
    with pytest.raises(TooManyTags, match="16"):
        Event("T", b"", [f"t{i}" for i in range(17)])
    bypass = Event("T", b"")._replace(tags=tuple(f"t{i}" for i in range(17)))
    refused(prior, [Event("T", b"ok"), bypass], TooManyTags, "16")


def test_tag_and_type_sizes_count_utf8_bytes(prior: DcbStore) -> None:
    """256 bytes of UTF-8 are accepted, 257 refused, however many characters that is."""
    longest = [("a" * 256), ("é" * 128), ("€" * 85 + "a"), ("𝄞" * 64)]
    assert all(len(t.encode()) == 256 for t in longest)
    events = [Event(t, t.encode(), [t]) for t in longest]
    prior.append(events)
    for event in events:
        got = [
            e.event for e in prior.read(Query([QueryItem(types=[event.type], tags=[event.type])]))
        ]
        assert got == [event]
    for text in ("a" * 257, "é" * 129, "€" * 86, "𝄞" * 64 + "a"):
        with pytest.raises(InvalidEvent, match="256"):
            Event("T", b"", [text])
        with pytest.raises(InvalidEvent, match="256"):
            Event(text, b"")
        refused(prior, [Event("T", b"")._replace(tags=(text,))], InvalidEvent, "256")
        refused(prior, [Event("T", b"")._replace(type=text)], InvalidEvent, "256")


def test_sixteen_tags_of_256_bytes_each(prior: DcbStore) -> None:
    """The largest index keys the store makes: both limits at once."""
    tags = [f"{i:02}" + "x" * 254 for i in range(16)]
    event = Event("T" * 256, b"", tags)
    prior.append([event])
    query = Query([QueryItem(types=[event.type], tags=tags[-3:])])
    assert [e.event for e in prior.read(query)] == [event]


# --- event size -----------------------------------------------------------------------------


def _encoded_size(event: Event) -> int:
    """White-box: the size the limit applies to (type, tags, metadata and data encoded)."""
    from fairway_django.dcb.codec import encode

    return len(encode(event))


def _data_size_for(total: int, tags: list[str], metadata: dict[str, str] | None) -> int:
    overhead = _encoded_size(Event("T", bytes(70_000), tags, metadata)) - 70_000
    return total - overhead


@pytest.mark.parametrize("metadata", [None, {"trace": "x" * 500}], ids=["plain", "metadata"])
def test_an_event_of_exactly_max_event_bytes_is_stored_and_one_byte_more_refused(
    prior: DcbStore, metadata: dict[str, str] | None
) -> None:
    tags = ["x", "y", "z"]
    size = _data_size_for(dcb.MAX_EVENT_BYTES, tags, metadata)
    largest = Event("T", b"\x01" * size, tags, metadata)
    assert _encoded_size(largest) == dcb.MAX_EVENT_BYTES
    prior.append([largest])
    for query in (Query.all(), Query([QueryItem(types=["T"], tags=["x", "y", "z"])])):
        assert [e.event for e in prior.read(query, backwards=True, limit=1)] == [largest]
        assert [e.event for e in prior.read(query)][-1] == largest
    too_large = Event("T", b"\x01" * (size + 1), tags, metadata)
    refused(prior, [Event("T", b"ok"), too_large], EventTooLarge, "100,000|100000")


def test_a_large_event_is_refused_not_split(prior: DcbStore) -> None:
    head = prior.head()
    with pytest.raises(EventTooLarge) as raised:
        prior.append([Event("Huge", bytes(dcb.MAX_EVENT_BYTES))])
    assert raised.value.code == "event_too_large"
    assert isinstance(raised.value, InvalidEvent)
    assert_nothing_written(prior, head)
    with pytest.raises(EventTooLarge):
        prior.append([Event("Huge", bytes(1_000_000))])
    assert_nothing_written(prior, head)


EVENTS_OF_EVERY_SIZE = [
    Event("Small", b"s" * 100, ["x", "y"]),
    Event("Large", bytes(range(256)) * 80, ["y", "x"], {"k": "v"}),  # ~20 KB
    Event("Small", b"", ["x", "y", "z"]),
    Event("Medium", b"m" * 1_500, ["x", "y"]),
    Event("Untagged", b"u" * 9_000),  # one index entry
    Event("ManyTags", b"t" * 40, ["x", "y", "z"] + [f"t{i}" for i in range(13)]),  # 273 entries
    Event("Small", b"s2", ["z"]),
    Event("Large", b"L" * 60_000, ["x", "y", "z"]),
]


@pytest.mark.parametrize(
    "query",
    [
        Query.all(),
        Query([QueryItem(types=["Large"])]),
        Query([QueryItem(types=["Small", "Large", "Medium", "Untagged", "ManyTags"])]),
        Query([QueryItem(tags=["x"])]),
        Query([QueryItem(tags=["x", "y"])]),
        Query([QueryItem(tags=["y", "z", "x"])]),
        Query([QueryItem(types=["Large"], tags=["x"])]),
        Query([QueryItem(types=["Large", "Small", "ManyTags"], tags=["x", "y"])]),
        Query([QueryItem(types=["Large", "ManyTags"], tags=["x", "y", "z"])]),
        Query([QueryItem(types=["Untagged"]), QueryItem(tags=["z"]), QueryItem(tags=["x", "y"])]),
        Query([QueryItem(tags=["t0", "t12", "x"])]),
    ],
    ids=[
        "all",
        "type",
        "types",
        "tag",
        "2 tags",
        "3 tags",
        "type+tag",
        "types+2 tags",
        "types+3 tags",
        "multi",
        "many tags",
    ],
)
def test_events_of_every_size_read_back_identically(prior: DcbStore, query: Query) -> None:
    prior.append(EVENTS_OF_EVERY_SIZE[:4])
    prior.append(EVENTS_OF_EVERY_SIZE[4:])
    log = list(prior.read())
    assert [e.event for e in log][1:] == EVENTS_OF_EVERY_SIZE
    for backwards in (False, True):
        for limit in (None, 2):
            got = list(prior.read(query, backwards=backwards, limit=limit))
            assert got == expected_read(log, query, backwards=backwards, limit=limit)
    assert list(prior.read(query)), "every query here matches something"


# --- the append as a whole ------------------------------------------------------------------


def test_an_append_over_the_byte_limit_is_refused(prior: DcbStore) -> None:
    """Each event is fine; together (with their index entries) they exceed what one engine
    transaction may write: the append is refused with advice to split it."""
    events = [Event("Chunk", bytes(99_000), ["x"]) for _ in range(101)]
    refused(prior, events, InvalidAppend, "split")


def test_an_append_just_under_the_byte_limit_commits(prior: DcbStore) -> None:
    events = [Event("Chunk", i.to_bytes(2, "big") + bytes(98_000)) for i in range(99)]
    position = prior.append(events)
    got = list(prior.read(Query([QueryItem(types=["Chunk"])])))
    assert [e.event for e in got] == events
    assert got[-1].position == position == prior.head()


def test_the_events_per_append_limit(prior: DcbStore) -> None:
    """65,536 events (the 2-byte order within a commit) append as one run; one more is refused."""
    refused(prior, [Event("N", b"")] * (dcb.MAX_EVENTS_PER_APPEND + 1), InvalidAppend, "65,536")
    head = prior.head()
    assert head is not None
    position = prior.append([Event("N", b"")] * dcb.MAX_EVENTS_PER_APPEND)
    positions = [e.position for e in prior.read(Query([QueryItem(types=["N"])]))]
    assert len(positions) == dcb.MAX_EVENTS_PER_APPEND
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert positions[0] > head and positions[-1] == position == prior.head()
    assert [e.position for e in prior.read(after=head)] == positions
