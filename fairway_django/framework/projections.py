"""Persistent views: read models that a projector keeps up to date as events are appended.

A projection declares the event classes it handles, one small handler per class that changes
documents, and the fields it can be looked up by. ``manage.py run_projectors`` applies the
events in position order; requests read the documents instead of folding events each time. See
:mod:`.projector` for how each event's effect is applied exactly once, and
:mod:`.generations` for versions and rebuilds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .documents import LOOKUP_TYPES
from .handlers import HandlesEvents


class Projection(HandlesEvents):
    """Base of persistent views. Add ``@on(EventClass)`` methods ``(self, docs, event)`` that
    change documents through ``docs`` (:class:`~.documents.Documents`).

    Example::

        class CourseList(Projection):
            route = "course-list"
            lookups = {"has_free_places": bool}

            @on(CourseDefined)
            def defined(self, docs, event):
                docs.put(event.course_id, {"title": event.title, "capacity": event.capacity,
                                           "subscribers": 0, "has_free_places": True})

    Change ``version`` when a handler changes what it stores: the runner then builds the new
    version beside the old one, which keeps serving until the new one has caught up.
    """

    #: The version of what the handlers store; a new number rebuilds the read model.
    version: ClassVar[int] = 1
    #: Document fields to look documents up by, and their types (str, int or bool).
    lookups: ClassVar[Mapping[str, type]] = {}
    #: Django ``path()`` syntax under the API root for the list (``<route>``, with lookups as
    #: filters) and the detail (``<route>/<key>``); None: not served over HTTP.
    route: ClassVar[str | None] = None
    #: A DRF Serializer class for one document.
    Output: ClassVar[type | None] = None
    #: DRF permission and authentication classes; None: DRF's defaults.
    permission_classes: ClassVar[Sequence[type] | None] = None
    authentication_classes: ClassVar[Sequence[type] | None] = None
    #: Events per projector transaction; smaller when handlers write big documents.
    batch_size: ClassVar[int] = 500

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.version, bool) or not isinstance(cls.version, int) or cls.version < 1:
            raise TypeError(f"{cls.__qualname__}.version must be a whole number >= 1")
        for name, kind in dict(cls.lookups).items():
            if not isinstance(name, str) or kind not in LOOKUP_TYPES:
                raise TypeError(
                    f"{cls.__qualname__}.lookups maps field names to str, int or bool, not "
                    f"{name!r}: {kind!r}"
                )
        if isinstance(cls.batch_size, bool) or not isinstance(cls.batch_size, int) or not (
            1 <= cls.batch_size <= 10_000
        ):
            raise TypeError(f"{cls.__qualname__}.batch_size must be a whole number, 1 to 10,000")
