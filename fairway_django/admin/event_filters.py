"""The event browser's filters: a Django form over the page's query string.

Everything the browser shows is in its URL (filters and cursor), so a page can be bookmarked
and shared; the form turns those parameters into checked values, and a bad one (a malformed
position, an unknown type, a tag over the store's limit) becomes a message naming it instead of
an error page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from fairway_django.dcb import MAX_TAG_BYTES, InvalidPosition, Position

#: Parameters that pick a page rather than filter: links to other pages replace them.
CURSORS = ("before", "after")


class PositionField(forms.CharField):
    """A position in its text form (24 hex digits, as every page shows them)."""

    def to_python(self, value: Any) -> Position | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return Position.parse(text.lower())
        except InvalidPosition:
            raise ValidationError(
                "%(value)s is not a position: a position is 24 hex digits",
                code="invalid_position", params={"value": repr(text[:40])},
            ) from None


class TagField(forms.CharField):
    """A tag, or the start of one, within the store's limit on tags."""

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value))
        if len(text.encode("utf-8", "surrogatepass")) > MAX_TAG_BYTES:
            raise ValidationError(
                "%(value)s… is longer than a tag can be (%(limit)s bytes)",
                code="tag_too_long", params={"value": repr(text[:40]), "limit": MAX_TAG_BYTES},
            )
        return text


class EventFilterForm(forms.Form):
    type = forms.MultipleChoiceField(
        required=False, error_messages={
            "invalid_choice": "%(value)s is not an event type registered here",
        },
    )
    tag = TagField(required=False, help_text="events carrying this tag, e.g. course:42")
    tag_prefix = TagField(
        required=False, label="Tag starts with", help_text="e.g. course: (searched page by page)"
    )
    start = PositionField(required=False, label="From position")
    end = PositionField(required=False, label="To position")
    since = forms.DateTimeField(required=False, help_text="occurred at or after (UTC)")
    until = forms.DateTimeField(required=False, help_text="occurred before (UTC)")
    before = PositionField(required=False, widget=forms.HiddenInput)
    after = PositionField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, types: Iterable[str]) -> None:
        super().__init__(data)
        choices = [(name, name) for name in sorted(types)]
        self.fields["type"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("before") and cleaned.get("after"):
            raise ValidationError("a page is either before or after a position, not both")
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None and start > end:
            raise ValidationError("the position range is empty: From is after To")
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError("the time range is empty: Since is not before Until")
        return cleaned

