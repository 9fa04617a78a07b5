"""The process's handles on the configured store, opened from ``FAIRWAY["STORE_URL"]``.

One handle per process is what both engines want (the embedded engine shares one LMDB
environment per store, FDB one network thread per process). Opening is lazy, so importing
this in settings, URLconfs or a gunicorn master that forks later is safe. A changed
``STORE_URL`` (``override_settings`` in tests) opens the new store on next use.

The URL's ``namespace`` option picks the event log (see docs/dcb.md); the engine itself is
shared by every namespace, so :func:`get_database` opens it without that option.
"""

from __future__ import annotations

import threading

from .conf import fairway_settings
from .dcb import DcbStore
from .dcb.store import DEFAULT_NAMESPACE
from .engine import Database, open_engine, parse_store_url

_lock = threading.Lock()
_handle: tuple[str, Database, DcbStore] | None = None


def get_database() -> Database:
    """The engine for the current ``STORE_URL``."""
    return _current()[1]


def get_store() -> DcbStore:
    """The event store for the current ``STORE_URL``, in the namespace the URL names."""
    return _current()[2]


def _current() -> tuple[str, Database, DcbStore]:
    global _handle
    url = fairway_settings.STORE_URL
    handle = _handle
    if handle is not None and handle[0] == url:
        return handle
    with _lock:
        if _handle is None or _handle[0] != url:
            if _handle is not None:
                _handle[1].close()
            parsed = parse_store_url(url)
            namespace = parsed.options.get("namespace", DEFAULT_NAMESPACE)
            database = open_engine(parsed.without("namespace"))
            try:
                store = DcbStore(database, namespace)
            except BaseException:
                database.close()  # a bad namespace: close what was opened for it
                raise
            _handle = (url, database, store)
        return _handle
