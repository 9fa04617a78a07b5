"""Slices declared apart from tests.framework.model, clashing with it (for the registry tests)."""

from __future__ import annotations

from typing import Annotated

from fairway_django.framework import Command, Event, Reader, Tag


class SeminarDefined(Event):
    seminar_id: Annotated[str, Tag]


class Subscribe(Command):
    def decide(self, read: Reader) -> None:
        return None
