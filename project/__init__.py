"""The example Django project that hosts Fairway and the ``slices`` example domain."""

from __future__ import annotations
