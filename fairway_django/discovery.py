"""Slice discovery: import every installed app's slices and register what they define.

As ``django.contrib.admin.autodiscover`` does for ``admin.py``: an app's slices live in its
``slices`` module or package (or, for an app whose own package is named ``slices``, the app
package itself), so adding a slice is adding a module, with no list to keep up to date. Packages are
walked recursively; test modules (``test_*``, ``*_test``, ``tests``, ``conftest``) and
``migrations`` are skipped, so tests can live beside the slices they test.

A module that fails to import is an error, never skipped: a slice that silently vanished would
answer 404s. The registry is left as it was whenever discovery fails.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule

from .framework import Registry, SliceImportError

SLICES_MODULE = "slices"
#: Module names that are never slices.
SKIPPED = re.compile(r"test_.*|.*_test|tests|conftest|migrations")


def autodiscover(registry: Registry) -> list[str]:
    """Register the slices of every installed app in ``registry``; return the modules' names.

    Raises ``SliceImportError`` (naming the module, with the cause chained) when a module
    fails to import, and ``DuplicateRegistration`` when two classes claim one name or route;
    either way ``registry`` keeps exactly its previous contents.
    """
    # A dry run first: temporarily() restores the registry whatever happens inside, so a
    # failure leaves it untouched. Registering the same modules again cannot fail.
    with registry.temporarily():
        modules = [
            module
            for app_config in apps.get_app_configs()
            for module in _app_slice_modules(app_config)
        ]
        for module in modules:
            registry.register_module(module)
    for module in modules:
        registry.register_module(module)
    return [module.__name__ for module in modules]


def slice_root(app_config: AppConfig) -> str | None:
    """The name of the app's slices module or package, or None when it has none."""
    if module_has_submodule(app_config.module, SLICES_MODULE):
        return f"{app_config.name}.{SLICES_MODULE}"
    if app_config.name.rpartition(".")[2] == SLICES_MODULE:
        return app_config.name
    return None


def slice_modules(name: str) -> Iterator[ModuleType]:
    """The module ``name`` and, for a package, every module below it but test modules."""
    module = _import(name)
    yield module
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), prefix=f"{name}."):
        if SKIPPED.fullmatch(info.name.rpartition(".")[2]) is None:
            yield from slice_modules(info.name)


def _app_slice_modules(app_config: AppConfig) -> Iterator[ModuleType]:
    root = slice_root(app_config)
    if root is not None:
        yield from slice_modules(root)


def _import(name: str) -> ModuleType:
    try:
        return import_module(name)
    except Exception as exc:
        raise SliceImportError(
            f"the slice module {name!r} failed to import ({type(exc).__name__}: {exc}); "
            "the traceback above shows where"
        ) from exc
