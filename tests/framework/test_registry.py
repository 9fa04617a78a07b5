"""The registry: unique event types, slice names and routes; temporary registrations."""

from __future__ import annotations

import types
from typing import Any

import pytest

from fairway_django.framework import (
    Command,
    DuplicateRegistration,
    Event,
    Registry,
    UnknownEventType,
    View,
    on,
)

from . import model
from .other import clashing


def test_register_module_takes_the_classes_defined_there() -> None:
    registry = Registry()
    registry.register_module(model)
    assert dict(registry.events) == {
        "SeminarDefined": model.SeminarDefined,
        "SeminarJoined": model.SeminarJoined,
        "MemberRegistered": model.MemberRegistered,
    }
    assert dict(registry.commands) == {
        "subscribe": model.Subscribe, "define_course": model.DefineCourse,
    }
    assert dict(registry.views) == {"course": model.Course}
    assert dict(registry.projections) == {"seminars": model.Seminars}
    assert registry.slices() == [model.Course, model.DefineCourse, model.Seminars, model.Subscribe]
    assert registry.event_class("SeminarJoined") is model.SeminarJoined
    registry.register_module(model)  # again: nothing changes, nothing clashes
    assert len(registry.events) == 3


def test_an_unknown_event_type_says_what_to_do() -> None:
    with pytest.raises(UnknownEventType, match="registered for event_type 'X'"):
        Registry().event_class("X")


@pytest.mark.parametrize("clash", [clashing.SeminarDefined, clashing.Subscribe])
def test_a_duplicate_names_both_modules(clash: Any) -> None:
    registry = Registry()
    registry.register_module(model)
    with pytest.raises(DuplicateRegistration) as error:
        registry.register(clash)
    assert "tests.framework.model" in str(error.value)
    assert "tests.framework.other.clashing" in str(error.value)


def test_commands_or_views_sharing_a_route_clash_but_a_command_and_a_view_may_share() -> None:
    class Post(Command):
        route = "things/<str:thing_id>"

    class Put(Command):
        route = "things/<str:thing_id>"

    class Show(View):
        route = "things/<str:thing_id>"

        @on(model.SeminarDefined)
        def defined(self, state: Any, event: Any) -> Any:
            return state

    registry = Registry()
    registry.register(Post)
    registry.register(Show)
    with pytest.raises(DuplicateRegistration, match="route 'things/<str:thing_id>'"):
        registry.register(Put)


def test_a_command_and_a_view_cannot_share_a_slice_name() -> None:
    registry = Registry()
    registry.register(model.Course)
    clash = type("Course", (Command,), {"__module__": "elsewhere"})
    with pytest.raises(DuplicateRegistration, match="elsewhere.*tests.framework.model"):
        registry.register(clash)


def test_temporarily_restores_exactly_even_on_error() -> None:
    registry = Registry()
    registry.register(model.SeminarDefined)
    before = (dict(registry.events), dict(registry.commands), dict(registry.views))
    with registry.temporarily(model.Subscribe, model.Course) as inside:
        assert inside is registry and "subscribe" in registry.commands
    assert (dict(registry.events), dict(registry.commands), dict(registry.views)) == before
    with pytest.raises(RuntimeError), registry.temporarily(model.MemberRegistered):
        raise RuntimeError("the block fails")
    assert dict(registry.events) == before[0]
    with pytest.raises(DuplicateRegistration), registry.temporarily(
        model.SeminarJoined, clashing.SeminarDefined
    ):
        pass  # registering fails half-way: the first one is undone too
    assert dict(registry.events) == before[0]


def test_only_events_commands_and_views_register() -> None:
    for bad in [Event, Command, View, int, types]:
        with pytest.raises(TypeError):
            Registry().register(bad)  # type: ignore[arg-type]
