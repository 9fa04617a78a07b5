"""Commands: a slice that reads what its decision needs, decides, and returns new events.

A command class declares what it is (its route, input serializer and rejection codes) and
overrides one method, ``decide``. ``decide`` only reads and returns events: running it, retrying
it on a conflict and appending what it returns is the runner's job (``run_command``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .codec import Recorded
from .events import Event

if TYPE_CHECKING:
    from fairway_django.dcb import Position

    from .reader import Reader


@dataclass(frozen=True)
class Backoff:
    """How a command retries after a conflict: up to ``attempts`` runs in all, sleeping between
    them a random time up to ``initial * 2**(attempt - 1)`` seconds, capped at ``maximum``
    (exponential backoff with full jitter, so that racing commands spread out)."""

    attempts: int = 10
    initial: float = 0.002
    maximum: float = 0.25

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or (
            self.attempts < 1
        ):
            raise ValueError(f"Backoff attempts must be a whole number >= 1, not {self.attempts!r}")
        if not 0 <= self.initial <= self.maximum:
            raise ValueError(
                f"Backoff needs 0 <= initial <= maximum, not initial={self.initial!r}, "
                f"maximum={self.maximum!r}"
            )

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1 for the first)."""
        ceiling = min(self.maximum, self.initial * 2 ** min(max(attempt - 1, 0), 60))
        return random.uniform(0.0, ceiling)


class Command:
    """Base of command slices. Override ``decide``; declare the class attributes you need.

    Example::

        class RegisterStudent(Command):
            route = "students"
            rejections = {"username_taken": 409}

            class Input(serializers.Serializer):
                student_id = serializers.CharField()
                username = serializers.CharField()

            def decide(self, read: Reader, student_id: str, username: str) -> StudentRegistered:
                if read.exists(StudentRegistered, username=username):
                    raise Rejected("username_taken", f"{username!r} is taken.")
                return StudentRegistered(student_id=student_id, username=username)
    """

    #: Django ``path()`` syntax under the API root; None: not served over HTTP.
    route: ClassVar[str | None] = None
    #: A DRF Serializer class validating the input (the framework itself never imports DRF).
    Input: ClassVar[type | None] = None
    #: Rejection code -> HTTP status; codes not listed get 422.
    rejections: ClassVar[Mapping[str, int]] = {}
    #: How to retry after a conflict with a concurrent writer.
    retry: ClassVar[Backoff] = Backoff()
    #: DRF permission classes; None: IsAuthenticated.
    permission_classes: ClassVar[Sequence[type] | None] = None
    #: DRF authentication classes; None: DRF's default.
    authentication_classes: ClassVar[Sequence[type] | None] = None
    #: The slice's name; defaults to the class name in snake_case.
    slice_name: ClassVar[str] = "command"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slice_name" not in cls.__dict__:
            cls.slice_name = snake_case(cls.__name__)

    # ``*args`` only so that type checkers accept a decide() naming its input's fields.
    def decide(self, read: Reader, *args: Any, **data: Any) -> Event | Iterable[Event] | None:
        """Read what the decision needs through ``read``, then return the new event(s), or
        None for none; raise ``Rejected`` when a rule says no. ``data`` is the validated input."""
        raise NotImplementedError(f"{type(self).__qualname__} must define decide(self, read, ...)")


@dataclass(frozen=True)
class CommandResult:
    """What running a command did."""

    #: The events appended (or, for a duplicate, those the first run appended).
    events: list[Recorded]
    #: The position of the last event appended; None when the decision was empty.
    position: Position | None
    #: True when the idempotency key had already been used: nothing was appended this time.
    duplicate: bool
    #: How many times ``decide`` ran (0 for a duplicate found before deciding).
    attempts: int


_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``SubscribeStudentToCourse`` -> ``subscribe_student_to_course``; ``HTTPPing`` ->
    ``http_ping``."""
    return _WORD_BOUNDARY.sub("_", name).lower()
