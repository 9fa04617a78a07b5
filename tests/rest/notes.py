"""Test-only slices about notes: one of each kind of endpoint and of each way to fail.

A module (not a test file) so that a gunicorn process can serve them too (``server_urls``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser

from fairway_django.framework import (
    Backoff,
    Command,
    Event,
    Reader,
    Rejected,
    Tag,
    View,
    on,
    run_command,
)
from fairway_django.store import get_store


class NoteAdded(Event):
    note_id: Annotated[str, Tag]
    text: str


class NoteArchived(Event):
    note_id: Annotated[str, Tag]


class AddNote(Command):
    route = "notes/<str:note_id>"
    rejections = {"note_exists": 409}

    class Input(serializers.Serializer):
        note_id = serializers.CharField(max_length=64)
        text = serializers.CharField(max_length=200)

    def decide(self, read: Reader, note_id: str, text: str) -> NoteAdded:
        if read.exists(NoteAdded, note_id=note_id):
            raise Rejected("note_exists", f"There is a note {note_id!r} already.")
        return NoteAdded(note_id=note_id, text=text)


class ArchiveNote(Command):
    """No Input: the URL's note_id is all it takes. Its one rejection is undeclared (422)."""

    route = "notes/<str:note_id>/archive"

    def decide(self, read: Reader, note_id: str) -> NoteArchived:
        if not read.exists(NoteAdded, note_id=note_id):
            raise Rejected("note_missing", f"There is no note {note_id!r}.")
        return NoteArchived(note_id=note_id)


class AddNoteSlowly(Command):
    """Takes ``seconds`` to decide, so that a second request can arrive meanwhile. Open to
    anyone, so the tests against a real server need no login."""

    route = "slow-notes/<str:note_id>"
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    decisions = 0  # how often decide ran in this process

    class Input(serializers.Serializer):
        note_id = serializers.CharField()
        text = serializers.CharField()
        seconds = serializers.FloatField(min_value=0, max_value=10)

    def decide(self, read: Reader, note_id: str, text: str, seconds: float) -> NoteAdded:
        type(self).decisions += 1
        time.sleep(seconds)
        return NoteAdded(note_id=note_id, text=text)


class AddNoteBlindly(Command):
    """Adds a note whatever the log holds; not served over HTTP (no route)."""

    def decide(self, read: Reader, note_id: str) -> NoteAdded:
        return NoteAdded(note_id=note_id, text="first")


class AddNoteRacing(Command):
    """Loses every race: while it decides, another command adds the note it read about."""

    route = "racing-notes/<str:note_id>"
    retry = Backoff(attempts=1)

    def decide(self, read: Reader, note_id: str) -> NoteAdded:
        read(NoteAdded, note_id=note_id)
        run_command(AddNoteBlindly, {"note_id": note_id}, store=get_store())
        return NoteAdded(note_id=note_id, text="second")


class AddNoteAsAdmin(Command):
    route = "admin-notes/<str:note_id>"
    permission_classes = [IsAdminUser]

    def decide(self, read: Reader, note_id: str) -> NoteAdded:
        return NoteAdded(note_id=note_id, text="by an admin")


class Note(View):
    """A note, at the same route as AddNote: GET reads what POST writes."""

    route = "notes/<str:note_id>"

    class Output(serializers.Serializer):
        note_id = serializers.CharField()
        text = serializers.CharField()
        archived = serializers.BooleanField()

    def initial(self, note_id: str) -> dict[str, Any]:
        return {"note_id": note_id, "text": "", "archived": False}

    @on(NoteAdded)
    def added(self, state: dict[str, Any], event: NoteAdded) -> dict[str, Any]:
        return {**state, "text": event.text}

    @on(NoteArchived)
    def archived(self, state: dict[str, Any], event: NoteArchived) -> dict[str, Any]:
        return {**state, "archived": True}


NOTES = (
    NoteAdded, NoteArchived, AddNote, ArchiveNote, AddNoteSlowly, AddNoteBlindly, AddNoteRacing,
    AddNoteAsAdmin, Note,
)
