"""The store against a reference model: random appends (with and without conditions) and reads,
every answer checked against a plain list of (position, event).

Each state-machine run works in a fresh namespace of one engine (cheaper than a directory per
run). ``TestModelUnderFaults`` runs the same machine on an embedded store failing a fifth of
its commits, to show retries change no answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fairway_django.dcb import (
    AppendCondition,
    AppendConditionFailed,
    DcbStore,
    Event,
    Position,
    Query,
    QueryItem,
    SequencedEvent,
    open_store,
)

from .conftest import FAULT_RATE, StoreOpener, engine_url, unique_namespace, with_options

TYPES = ["A", "B", "C"]
TAGS = ["x", "y", "z", "w"]
LOWEST, HIGHEST = Position.parse("0" * 24), Position.parse("f" * 24)

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

tag_lists = st.lists(st.sampled_from(TAGS), max_size=4, unique=True)  # random order too
#: Query items, as (types, tags) pairs; items with 3 or 4 tags take the filtering path.
items = st.tuples(st.lists(st.sampled_from(TYPES), max_size=2, unique=True), tag_lists)
#: None stands for Query.all(); otherwise 1 to 3 items, which may overlap.
query_specs = st.one_of(st.none(), st.lists(items, min_size=1, max_size=3))
#: Data sizes: small events are copied into their index entries, large ones referenced.
sizes = st.sampled_from([0, 10, 50, 1_500, 9_000])


def build_query(spec: list[tuple[list[str], list[str]]] | None) -> Query:
    if spec is None:
        return Query.all()
    return Query([QueryItem(types=types, tags=tags) for types, tags in spec])


def model_matches(spec: list[tuple[list[str], list[str]]] | None, event: Event) -> bool:
    if spec is None:
        return True
    return any(
        (not types or event.type in types) and set(tags) <= set(event.tags) for types, tags in spec
    )


class StoreModel(RuleBasedStateMachine):
    """One store, in a namespace nobody else writes, and the list of what it must hold."""

    def __init__(
        self, open_fresh: Callable[[], DcbStore], close: Callable[[DcbStore], None]
    ) -> None:
        super().__init__()
        self.store = open_fresh()
        self._close = close
        self.log: list[SequencedEvent] = []
        self.counter = 0

    def teardown(self) -> None:
        self._close(self.store)

    # -- drawing positions -----------------------------------------------------------------

    def draw_after(self, data: st.DataObject) -> Position | None:
        """None, a position in the log, or one that is not: between two appends, below or
        above every position."""
        choices: list[Position | None] = [None, LOWEST, HIGHEST]
        if self.log:
            seen = data.draw(st.sampled_from(self.log)).position
            choices += [seen, seen, seen, Position.parse(str(seen)[:-4] + "ffff")]
        return data.draw(st.sampled_from(choices))

    def expected(
        self,
        spec: list[tuple[list[str], list[str]]] | None,
        after: Position | None,
        limit: int | None,
        backwards: bool,
    ) -> list[SequencedEvent]:
        found = [e for e in self.log if model_matches(spec, e.event)]
        if backwards:
            found.reverse()
        if after is not None:
            found = [e for e in found if (e.position < after if backwards else e.position > after)]
        return found if limit is None else found[:limit]

    # -- rules -----------------------------------------------------------------------------

    @rule(
        data=st.data(),
        shapes=st.lists(
            st.tuples(st.sampled_from(TYPES), tag_lists, sizes, st.booleans()),
            min_size=1,
            max_size=5,
        ),
        conditional=st.booleans(),
        spec=query_specs,
    )
    def append(
        self,
        data: st.DataObject,
        shapes: list[tuple[str, list[str], int, bool]],
        conditional: bool,
        spec: list[tuple[list[str], list[str]]] | None,
    ) -> None:
        events = []
        for type_, tags, size, with_metadata in shapes:
            self.counter += 1
            body = f"#{self.counter}".encode()
            events.append(
                Event(
                    type_,
                    body + bytes(size),
                    tags,
                    {"n": str(self.counter)} if with_metadata else None,
                )
            )
        condition = None
        must_fail = False
        if conditional:
            after = self.draw_after(data)
            condition = AppendCondition(build_query(spec), after)
            must_fail = bool(self.expected(spec, after, None, False))
        head = self.store.head()
        if must_fail:
            try:
                self.store.append(events, condition)
            except AppendConditionFailed as failure:
                assert model_matches(
                    spec, next(e.event for e in self.log if e.position == failure.position)
                )
            else:
                raise AssertionError(f"{condition} should have failed")
            assert self.store.head() == head
            assert list(self.store.read(after=head)) == []
            return
        position = self.store.append(events, condition)
        new = list(self.store.read(after=head))
        # Nobody else writes here: everything after the old head is this append, in order.
        assert [e.event for e in new] == events
        assert new[-1].position == position
        assert all(a.position < b.position for a, b in zip(new, new[1:]))
        assert head is None or new[0].position > head
        self.log.extend(new)

    @rule(
        data=st.data(),
        spec=query_specs,
        backwards=st.booleans(),
        limit=st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
    )
    def read(
        self,
        data: st.DataObject,
        spec: list[tuple[list[str], list[str]]] | None,
        backwards: bool,
        limit: int | None,
    ) -> None:
        after = self.draw_after(data)
        got = list(
            self.store.read(build_query(spec), after=after, limit=limit, backwards=backwards)
        )
        assert got == self.expected(spec, after, limit, backwards)

    @precondition(lambda self: bool(self.log))
    @rule(data=st.data())
    def positions_round_trip(self, data: st.DataObject) -> None:
        position = data.draw(st.sampled_from(self.log)).position
        assert Position.parse(str(position)) == position

    @invariant()
    def head_is_the_last_position(self) -> None:
        assert self.store.head() == (self.log[-1].position if self.log else None)


def run_model(
    open_fresh: Callable[[], DcbStore],
    close: Callable[[DcbStore], None],
    run_settings: settings = SETTINGS,
) -> None:
    run_state_machine_as_test(
        lambda: StoreModel(open_fresh, close),
        settings=run_settings,  # type: ignore[arg-type]
    )


def test_store_matches_the_model(open_stores: StoreOpener) -> None:
    """Every answer equals the reference model's, on every engine under test."""
    run_model(open_stores.open, open_stores.discard)


class TestModelUnderFaults:
    """The same machine on a store whose commits fail now and then; the store retries them."""

    def test_store_matches_the_model_under_faults(self, tmp_path: Path) -> None:
        base = with_options(
            engine_url("embedded", tmp_path / "faulty"), faults=str(FAULT_RATE), fault_seed="11"
        )

        def open_fresh() -> DcbStore:
            return open_store(with_options(base, namespace=unique_namespace()))

        run_model(open_fresh, DcbStore.close, settings(SETTINGS, max_examples=25))
