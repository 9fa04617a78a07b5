"""The event browser: the log newest first, filtered and paged by position, and each event.

Read-only by design: the admin never edits or deletes an event (facts stay facts; a correction
is a new event appended by a command).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe

from fairway_django.dcb import DcbStore, InvalidPosition, Position, Query, QueryItem, SequencedEvent
from fairway_django.dcb.position import predecessor, successor
from fairway_django.framework import registry
from fairway_django.framework.codec import decode
from fairway_django.framework.errors import FairwayError
from fairway_django.store import get_store

from .base import Page, StoreAdmin, problems
from .chart import CHART_EVENTS, appends_chart
from .event_filters import CURSORS, EventFilterForm
from .event_pages import (
    EXAMINED_PER_PAGE,
    Selection,
    browse,
    event_at,
    occurred_at,
    position_at,
    select,
)

#: Each type's events are counted up to this many for the type filter; beyond, it shows "500+"
#: (counting means reading: a count of every event of a type would cost a read of them all).
TYPE_COUNT_LIMIT = 500
#: Characters of an event's data shown in the list.
PREVIEW_CHARACTERS = 120


@dataclass(frozen=True)
class Row:
    url: str
    position: Position
    type: str
    occurred_at: datetime | None
    tags: tuple[str, ...]
    preview: str


class EventAdmin(StoreAdmin):
    def pages(self) -> list[tuple[str, Page, str]]:
        return [("<str:position>/", self.event_view, "detail")]

    @method_decorator(require_safe)
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.require_view(request)
        store = get_store()
        form = EventFilterForm(request.GET, registry.events)
        context: dict[str, Any] = {
            "title": "Events", "trail": [("Events", None)], "form": form,
            "types": self._types(store, request.GET),
            "selected_types": request.GET.getlist("type"),
            "all_types_url": "?" + _changed(request.GET, type=None).urlencode(),
            "examined": f"{EXAMINED_PER_PAGE:,}",
            "filtered": any(request.GET.get(name) for name in form.fields if name not in CURSORS),
        }
        if not form.is_valid():
            return self.render(
                request, "admin/fairway/events.html",
                {**context, "problems": problems(form), "rows": []}, status=400,
            )
        data = form.cleaned_data
        selection = self._selection(store, data)
        if selection is None:  # a time range no event falls in
            return self.render(request, "admin/fairway/events.html", {**context, "rows": []})
        page = browse(
            store, selection, before=data["before"], after=data["after"], chart=CHART_EVENTS
        )
        events, params = page.events, request.GET
        detail = self.url("changelist")  # an event's page is <position>/ below the list
        return self.render(request, "admin/fairway/events.html", {
            **context, "rows": [self._row(s, detail) for s in events],
            "chart": appends_chart(page.chart_events) if page.chart_events else None,
            "newer": self._page_url(params, "after", events[0].position) if page.newer else None,
            "older": self._page_url(params, "before", events[-1].position) if page.older else None,
            "stopped_at": page.stopped_at,
            "search_on": self._page_url(params, page.direction, page.stopped_at)
            if page.stopped_at is not None else None,
        })

    @method_decorator(require_safe)
    def event_view(self, request: HttpRequest, position: str) -> HttpResponse:
        self.require_view(request)
        try:
            at = Position.parse(position)
        except InvalidPosition as error:
            return self.problem(request, "Not a position", [str(error)], 400)
        sequenced = event_at(get_store(), at)
        if sequenced is None:
            return self.problem(request, "No such event", [f"no event is at position {at}"], 404)
        return self.render(request, "admin/fairway/event.html", {
            "title": f"{sequenced.event.type} at {at}", "row": self._row(sequenced, ""),
            "trail": [("Events", self.url("changelist")), (str(at), None)],
            "metadata": sorted((sequenced.event.metadata or {}).items()),
            **self._decoded(sequenced),
            "around": self._page_url(QueryDict(), "before", successor(at)),
        })

    def _selection(self, store: DcbStore, data: dict[str, Any]) -> Selection | None:
        lowest: Position | None = data["start"]
        highest: Position | None = data["end"]
        if data["since"] is not None:
            since = position_at(store, data["since"])
            if since is None:
                return None
            lowest = since if lowest is None else max(lowest, since)
        if data["until"] is not None:
            until = position_at(store, data["until"])
            if until is not None:
                bound = predecessor(until)
                if bound is None:
                    return None
                highest = bound if highest is None else min(highest, bound)
        if lowest is not None and highest is not None and lowest > highest:
            return None
        return select(
            tuple(data["type"]), data["tag"] or None, data["tag_prefix"] or None, lowest, highest
        )

    def _types(self, store: DcbStore, params: QueryDict) -> list[dict[str, Any]]:
        """The type filter: every registered type with its count (bounded) and its link."""
        chosen = params.getlist("type")
        found = []
        for name in sorted(registry.events):
            count = sum(1 for _ in store.read(
                Query([QueryItem(types=(name,))]), limit=TYPE_COUNT_LIMIT
            ))
            found.append({
                "name": name, "selected": chosen == [name],
                "count": f"{count:,}" + ("+" if count >= TYPE_COUNT_LIMIT else ""),
                "url": "?" + _changed(params, type=name).urlencode(),
            })
        return found

    def _page_url(self, params: QueryDict, cursor: str, position: Position | None) -> str:
        chosen = {**dict.fromkeys(CURSORS), cursor: None if position is None else str(position)}
        changed = _changed(params, **chosen)
        return self.url("changelist", query=changed)

    def _row(self, sequenced: SequencedEvent, detail: str) -> Row:
        event = sequenced.event
        preview = event.data[:PREVIEW_CHARACTERS * 4].decode("utf-8", "replace")
        if len(preview) > PREVIEW_CHARACTERS:
            preview = preview[:PREVIEW_CHARACTERS] + "…"
        return Row(
            f"{detail}{sequenced.position}/", sequenced.position, event.type,
            occurred_at(sequenced), event.tags, preview,
        )

    def _decoded(self, sequenced: SequencedEvent) -> dict[str, Any]:
        """The data through its event class (upcast to the class's version), or raw."""
        event = sequenced.event
        cls = registry.events.get(event.type)
        found: dict[str, Any] = {
            "raw": _raw_text(event.data),
            "event_class": None if cls is None else f"{cls.__module__}.{cls.__qualname__}",
        }
        if cls is None:
            found["decode_error"] = f"no event class here is registered for {event.type!r}"
            return found
        try:
            recorded = decode(sequenced, registry.events)
        except FairwayError as error:
            found["decode_error"] = str(error)
            return found
        found.update(
            decoded=msgspec.json.format(msgspec.json.encode(recorded.event), indent=2).decode(),
            stored_version=recorded.version, current_version=cls.schema_version,
        )
        return found


def _changed(params: QueryDict, **values: str | None) -> QueryDict:
    """``params`` with ``values`` set (None removes one); a changed filter resets the cursor."""
    changed = params.copy()
    if any(name not in CURSORS for name in values):
        values = {**dict.fromkeys(CURSORS), **values}
    for name, value in values.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed.setlist(name, [value])
    for name in [name for name, items in changed.lists() if not any(items)]:
        del changed[name]  # empty fields of a submitted form: keep URLs short
    return changed


def _raw_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex(" ", 4)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text

