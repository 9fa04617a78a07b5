"""Discovery: every installed app's slices found and registered, or a clear error and the
registry as it was. Apps are real packages written under tmp_path."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from fairway_django.discovery import autodiscover
from fairway_django.framework import DuplicateRegistration, Registry, SliceImportError, registry

EVENT = """
from typing import Annotated
from fairway_django.framework import Event, Tag

class {name}(Event):
    thing_id: Annotated[str, Tag]
"""
COMMAND = """
from fairway_django.framework import Command

class {name}(Command):
    def decide(self, read, thing_id):
        return None
"""

Write = Callable[[str, str], None]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Write]:
    """Write a module under tmp_path (importable; packages get their __init__.py)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)

    def write(name: str, source: str) -> None:
        path = tmp_path.joinpath(*name.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in path.relative_to(tmp_path).parents:
            if package != Path("."):
                (tmp_path / package / "__init__.py").touch()
        path.with_suffix(".py").write_text(textwrap.dedent(source))

    yield write
    for name in set(sys.modules) - before:
        del sys.modules[name]


def discover(*apps: str) -> Registry:
    fresh = Registry()
    with override_settings(INSTALLED_APPS=[*apps]):
        autodiscover(fresh)
    return fresh


def test_an_apps_slices_package_is_walked_recursively(write: Write) -> None:
    write("shop.models", "")
    write("shop.slices.events", EVENT.format(name="OrderPlaced"))
    write("shop.slices.orders.place_order", COMMAND.format(name="PlaceOrder"))
    write("shop.slices.orders.deep.cancel_order", COMMAND.format(name="CancelOrder"))

    found = discover("shop")

    assert set(found.events) == {"OrderPlaced"}
    assert set(found.commands) == {"place_order", "cancel_order"}


def test_an_app_named_slices_is_its_own_slices_package(write: Write) -> None:
    write("myproject.slices.ship", COMMAND.format(name="Ship"))

    assert set(discover("myproject.slices").commands) == {"ship"}


def test_a_slices_module_works_as_well_as_a_package(write: Write) -> None:
    write("billing.slices", COMMAND.format(name="Bill"))

    assert set(discover("billing").commands) == {"bill"}


def test_apps_without_slices_are_skipped(write: Write) -> None:
    write("plain.models", "")

    found = discover("plain", "django.contrib.auth")

    assert not found.slices() and not found.events


def test_test_modules_and_migrations_are_not_imported(write: Write) -> None:
    write("shop.slices.place_order", COMMAND.format(name="PlaceOrder"))
    broken = "raise AssertionError('must not be imported')"
    for name in ["test_place_order", "place_order_test", "conftest", "tests.test_x",
                 "migrations.0001_initial"]:
        write(f"shop.slices.{name}", broken)

    assert set(discover("shop").commands) == {"place_order"}


def test_a_module_that_fails_to_import_is_named_and_chained(write: Write) -> None:
    write("shop.slices.good", COMMAND.format(name="Good"))
    write("shop.slices.orders.broken", "1 / 0")

    with pytest.raises(SliceImportError) as failure:
        discover("shop")

    assert "the slice module 'shop.slices.orders.broken' failed to import" in str(failure.value)
    assert "ZeroDivisionError: division by zero" in str(failure.value)
    assert isinstance(failure.value.__cause__, ZeroDivisionError)


def test_a_failure_leaves_the_registry_as_it_was(write: Write) -> None:
    write("shop.slices.a_good", COMMAND.format(name="Good"))
    write("shop.slices.z_broken", "import no_such_module")
    fresh = Registry()
    write("earlier", EVENT.format(name="Earlier"))
    from earlier import Earlier  # type: ignore[import-not-found]

    fresh.register(Earlier)

    with override_settings(INSTALLED_APPS=["shop"]), pytest.raises(SliceImportError):
        autodiscover(fresh)
    assert dict(fresh.events) == {"Earlier": Earlier}
    assert not fresh.slices()


def test_duplicate_names_name_both_modules_and_register_nothing(write: Write) -> None:
    write("shop.slices.place_order", COMMAND.format(name="PlaceOrder"))
    write("warehouse.slices.orders", COMMAND.format(name="PlaceOrder"))
    fresh = Registry()

    with override_settings(INSTALLED_APPS=["shop", "warehouse"]):
        with pytest.raises(DuplicateRegistration) as failure:
            autodiscover(fresh)

    assert "shop.slices.place_order" in str(failure.value)
    assert "warehouse.slices.orders" in str(failure.value)
    assert not fresh.slices()


def test_discovering_twice_changes_nothing(write: Write) -> None:
    write("shop.slices.place_order", COMMAND.format(name="PlaceOrder"))
    fresh = discover("shop")

    with override_settings(INSTALLED_APPS=["shop"]):
        assert autodiscover(fresh) == ["shop.slices", "shop.slices.place_order"]
    assert set(fresh.commands) == {"place_order"}


def test_start_up_discovered_the_example_slices() -> None:
    assert "subscribe_student_to_course" in registry.commands
    assert "course" in registry.views
    assert "CourseDefined" in registry.events
