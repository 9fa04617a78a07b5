"""``manage.py startslice KIND NAME [APP]``: a new slice module and its test, ready to edit.

Like ``startapp``, it starts from templates (``fairway_django/scaffold``, shipped in the wheel),
so a new slice begins as code that runs and a given/when/then test that passes, which the
developer then bends into the real rule. It never overwrites a file: a slice is someone's code.
"""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from django.apps import AppConfig, apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...discovery import SKIPPED, SLICES_MODULE, slice_root

KINDS = ("command", "view", "projection")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
PACKAGE_DOCSTRING = '"""The app\'s slices: one module per command or view, each with its test."""\n'


class Command(BaseCommand):
    help = (
        "Write a new slice, <app>/slices/NAME.py, and its test, <app>/slices/test_NAME.py, "
        "from Fairway's templates. KIND is 'command', 'view' or 'projection'; NAME is the module's snake_case "
        "name (the class is its CamelCase); APP is the app label (default: the one installed "
        "app with a slices package)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", metavar="KIND", help="command, view or projection")
        parser.add_argument("name", metavar="NAME", help="the module name, e.g. add_note")
        parser.add_argument(
            "app", metavar="APP", nargs="?", help="the label of the app to write into"
        )

    def handle(self, *args: Any, kind: str, name: str, app: str | None, **options: Any) -> None:
        check_kind(kind)
        check_name(name)
        directory = slices_directory(app_config(app))
        files = {
            directory / f"{name}.py": f"{kind}.py-tpl",
            directory / f"test_{name}.py": f"test_{kind}.py-tpl",
        }
        for path in files:
            if path.exists():
                raise CommandError(
                    f"{path} already exists, and startslice never overwrites a file: choose "
                    f"another NAME, or move that file away first."
                )
        directory.mkdir(parents=True, exist_ok=True)
        package = directory / "__init__.py"
        if not package.exists():
            write(package, PACKAGE_DOCSTRING)
            self.stdout.write(f"Created {package}")
        context = template_context(name)
        for path, template in files.items():
            write(path, render(template, context))
            self.stdout.write(self.style.SUCCESS(f"Created {path}"))


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise CommandError(f"KIND must be 'command', 'view' or 'projection', not {kind!r}.")


def check_name(name: str) -> None:
    if not SNAKE_CASE.fullmatch(name) or keyword.iskeyword(name):
        raise CommandError(
            f"NAME must be a snake_case Python module name that is not a keyword, such as "
            f"'add_note' (the class becomes AddNote), not {name!r}."
        )
    if SKIPPED.fullmatch(name):
        raise CommandError(
            f"NAME {name!r} is a name that slice discovery skips (those of tests: test_*, "
            f"*_test, tests, conftest; and migrations), so the slice would never be "
            f"registered: choose another."
        )


def app_config(label: str | None) -> AppConfig:
    """The app named by ``label``, or the single installed app that has slices."""
    if label is not None:
        try:
            return apps.get_app_config(label)
        except LookupError:
            known = ", ".join(sorted(config.label for config in apps.get_app_configs()))
            raise CommandError(
                f"APP {label!r} is not the label of an installed app. Installed app labels: "
                f"{known}."
            ) from None
    candidates = [config for config in apps.get_app_configs() if slice_root(config)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise CommandError(
            "No installed app has a slices package yet, so startslice cannot pick one: name "
            "the app, e.g. `manage.py startslice command add_note shop` (it creates "
            "shop/slices/)."
        )
    labels = ", ".join(config.label for config in candidates)
    raise CommandError(
        f"Several installed apps have slices ({labels}): name the one to write into, e.g. "
        f"`manage.py startslice command add_note {candidates[0].label}`."
    )


def slices_directory(config: AppConfig) -> Path:
    """Where discovery finds the app's slices: its ``slices`` package, or the app itself."""
    path = Path(config.path)
    if slice_root(config) == config.name:
        return path
    module = path / f"{SLICES_MODULE}.py"
    if module.exists():
        raise CommandError(
            f"{module} is a module, and startslice writes into a package: move it to "
            f"{path / SLICES_MODULE / '__init__.py'} first."
        )
    return path / SLICES_MODULE


def template_context(name: str) -> dict[str, str]:
    words = name.split("_")
    class_name = "".join(word.capitalize() for word in words)
    return {
        "module": name,
        "class_name": class_name,
        "title": " ".join(words).capitalize(),
        "route": "-".join(words),
    }


def render(template: str, context: dict[str, str]) -> str:
    source = resources.files("fairway_django").joinpath("scaffold", template).read_text("utf-8")
    return Template(source).substitute(context)


def write(path: Path, text: str) -> None:
    # "x": a file that appeared since the check above is still not overwritten.
    with path.open("x", encoding="utf-8") as file:
        file.write(text)
