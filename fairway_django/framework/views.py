"""Live views: state folded from the log on each request, so it is never stale.

A view declares an initial state and one method per event class it handles (``@on``); to answer,
it reads the events its query selects, by default every handled class with the view's
parameters as tags, and folds them in order. A client that has just run a command can pass the
command's position as ``min_position``: the view then waits until the store has reached it, so
a client always reads its own writes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fairway_django.dcb import DcbStore, Position, Query

from .codec import decode
from .errors import InvalidSelection, NotCaughtUp, NotFound
from .handlers import HandlesEvents
from .query import EventQuery, select

class View(HandlesEvents):
    """Base of live views. Override ``initial`` and add ``@on(EventClass)`` methods.

    Example::

        class Student(View):
            route = "students/<str:student_id>"

            def initial(self, student_id: str) -> dict[str, object]:
                return {"student_id": student_id, "name": ""}

            @on(StudentRegistered)
            def registered(self, state, event):
                return {**state, "name": event.name}
    """

    #: Django ``path()`` syntax under the API root; None: not served over HTTP.
    route: ClassVar[str | None] = None
    #: A DRF Serializer class for the state.
    Output: ClassVar[type | None] = None
    #: When no event matches, raise NotFound (HTTP 404) instead of returning the initial state.
    not_found_when_empty: ClassVar[bool] = True
    #: DRF permission and authentication classes; None: DRF's defaults.
    permission_classes: ClassVar[Sequence[type] | None] = None
    authentication_classes: ClassVar[Sequence[type] | None] = None
    # ``*args`` only so that type checkers accept an initial() naming the view's parameters.
    def initial(self, *args: Any, **params: Any) -> Any:
        """The state before any event; ``params`` are the view's parameters."""
        return None

    def query(self, **params: Any) -> EventQuery:
        """The events to fold: by default every handled class, with ``params`` as tags."""
        if not self.handlers:
            raise InvalidSelection(
                f"{type(self).__qualname__} handles no event class: mark methods with @on(...)"
            )
        return select(*self.handled_events(), **params)


@dataclass(frozen=True)
class ViewResult:
    """A view's state, and how far into the log it reflects."""

    state: Any
    #: The position of the last event folded (None when none was).
    position: Position | None
    #: How many events were folded.
    count: int


def compute_view(
    view_class: type[View],
    params: Mapping[str, Any],
    *,
    store: DcbStore,
    min_position: Position | None = None,
    timeout: float = 5.0,
) -> ViewResult:
    """Fold the view's events into its state; see the module docstring.

    With ``min_position``, first wait up to ``timeout`` seconds for the store to reach it
    (``NotCaughtUp`` otherwise). No matching event and ``not_found_when_empty``: ``NotFound``.
    """
    view = view_class()
    query = view.query(**params)
    if min_position is not None:
        wait_for(store, min_position, timeout)
    state = view.initial(**params)
    position = None
    count = 0
    for sequenced in store.read(query.dcb):
        event = decode(sequenced, query.classes).event
        name = view.handlers.get(type(event))
        if name is not None:
            state = getattr(view, name)(state, event)
        position = sequenced.position
        count += 1
    if not count and view_class.not_found_when_empty:
        shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
        raise NotFound(f"{view_class.__qualname__} found no events for {shown or 'its query'}")
    return ViewResult(state, position, count)


def wait_for(store: DcbStore, position: Position, timeout: float) -> None:
    """Return once the store's head is at ``position`` or beyond; NotCaughtUp after
    ``timeout`` seconds. Waits on a subscription (the engine's watch), never polls."""
    head = store.head()
    if head is not None and head >= position:
        return
    with store.subscribe(Query.all(), after=head) as subscription:
        timer = threading.Timer(timeout, subscription.stop)
        timer.daemon = True
        timer.start()
        try:
            for sequenced in subscription:
                if sequenced.position >= position:
                    return
        finally:
            timer.cancel()
    raise NotCaughtUp(
        f"the store has not reached position {position} after {timeout} s (its head is "
        f"{store.head()}); the write may be on another store, or retry later"
    )
