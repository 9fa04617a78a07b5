"""Which ``fdb`` this process imports: FoundationDB's bindings, or another package's module.

The Firebird database driver is also published as ``fdb`` on PyPI, and installing it (or a
package that depends on it) shadows or overwrites FoundationDB's bindings, which Fairway needs
even without FoundationDB: its keys are FDB's tuple encoding. That is recognised here, once,
with the fix named, instead of an AttributeError or a missing ``fdb.tuple`` somewhere later.
"""

from __future__ import annotations

from typing import Any

#: The client version the ``foundationdb`` bindings are pinned to; libfdb_c must match it.
CLIENT_VERSION = "7.3.69"


def wrong_fdb_module(module: Any) -> str | None:
    """What is wrong with ``module`` as ``fdb``, or None when it is FoundationDB's bindings."""
    if all(hasattr(module, name) for name in ("api_version", "is_api_version_selected")):
        return None
    where = getattr(module, "__file__", None) or "an unknown place"
    firebird = hasattr(module, "connect") or "firebird" in (module.__doc__ or "").lower()
    what = "the Firebird database driver, PyPI package fdb" if firebird else "another package"
    return (
        f"the module fdb imported from {where} is not FoundationDB's Python bindings (it looks "
        f"like {what}); both install a module named fdb. Run pip uninstall fdb, then pip "
        f"install foundationdb=={CLIENT_VERSION}, or keep the other one in an environment of "
        "its own"
    )


def require_bindings() -> None:
    """Raise ImportError, naming the fix, unless ``fdb`` is FoundationDB's bindings."""
    try:
        import fdb  # type: ignore[import-untyped]
    except ImportError as error:
        raise ImportError(
            "Fairway needs FoundationDB's Python bindings, also without FoundationDB (its keys "
            f"are FDB's tuple encoding): pip install foundationdb=={CLIENT_VERSION}"
        ) from error
    problem = wrong_fdb_module(fdb)
    if problem is not None:
        raise ImportError(problem)
