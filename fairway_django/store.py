"""The process's handle on the configured store, opened from ``FAIRWAY["STORE_URL"]``.

One handle per process is what both engines want (the embedded engine shares one LMDB
environment per store, FDB one network thread per process). Opening is lazy, so importing
this in settings, URLconfs or a gunicorn master that forks later is safe. A changed
``STORE_URL`` (``override_settings`` in tests) opens the new store on next use.
"""

from __future__ import annotations

import threading

from .conf import fairway_settings
from .engine import Database, open_engine

_lock = threading.Lock()
_handle: tuple[str, Database] | None = None


def get_database() -> Database:
    """The database for the current ``STORE_URL``."""
    global _handle
    url = fairway_settings.STORE_URL
    handle = _handle
    if handle is not None and handle[0] == url:
        return handle[1]
    with _lock:
        if _handle is None or _handle[0] != url:
            if _handle is not None:
                _handle[1].close()
            _handle = (url, open_engine(url))
        return _handle[1]
