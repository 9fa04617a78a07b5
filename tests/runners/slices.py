"""A tally per key: a projection whose handler can be slowed down (``RUNNERS_HANDLER_DELAY``
seconds per event), so a test can signal or kill a runner in the middle of a batch."""

from __future__ import annotations

import os
import time
from typing import Annotated

from fairway_django.framework import Event, Tag, on
from fairway_django.framework.documents import Documents
from fairway_django.framework.projections import Projection

DELAY = float(os.environ.get("RUNNERS_HANDLER_DELAY", "0"))


class Counted(Event):
    key: Annotated[str, Tag]
    amount: int


class Tally(Projection):
    lookups = {"parity": str}
    batch_size = 100

    @on(Counted)
    def counted(self, docs: Documents, event: Counted) -> None:
        if DELAY:
            time.sleep(DELAY)
        tally = docs.get(event.key) or {"total": 0, "count": 0}
        total = tally["total"] + event.amount
        docs.put(event.key, {
            "total": total, "count": tally["count"] + 1,
            "parity": "even" if total % 2 == 0 else "odd",
        })
