"""``manage.py startslice``: what it writes is discovered, served and passes its own test.

Generation runs in a throwaway Django project under ``tmp_path``, in fresh processes (the
command, ``manage.py check``, pytest on the generated test), as a developer would run them; the
argument checks, which write nothing, run in this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = """\
SECRET_KEY = "startslice-tests-only"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "fairway_django",
    *{apps!r},
]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
ROOT_URLCONF = "demo_urls"
FAIRWAY = {{"STORE_URL": "embedded://{store}?durability=none"}}
USE_TZ = True
"""

URLS = """\
from django.urls import include, path

urlpatterns = [path("api/", include("fairway_django.urls"))]
"""


class Project:
    """A minimal Django project in a directory: settings, URLs and pytest set up for slices."""

    def __init__(self, path: Path, *apps: str) -> None:
        self.path = path
        (path / "demo_settings.py").write_text(
            SETTINGS.format(apps=list(apps), store=path / "store")
        )
        (path / "demo_urls.py").write_text(URLS)
        # With fault injection, as this repository runs its own slices' tests.
        (path / "pytest.ini").write_text(
            "[pytest]\nDJANGO_SETTINGS_MODULE = demo_settings\nfairway_faults = 0.2\n"
        )
        (path / "conftest.py").write_text('pytest_plugins = ["fairway_django.testing"]\n')

    def app(self, name: str, *, slices: bool = True) -> Path:
        """A new app package ``name``, with an empty ``slices`` package if ``slices``."""
        package = self.path / name
        package.mkdir()
        (package / "__init__.py").write_text("")
        if slices:
            (package / "slices").mkdir()
            (package / "slices" / "__init__.py").write_text("")
        return package

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # The project directory comes first, so its apps win over the repository's own
        # packages of the same name (an app named `slices`); the repository gives fairway_django.
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_", "FAIRWAY_", "PYTEST_")) and name != "PYTHONPATH"
        }
        env |= {"DJANGO_SETTINGS_MODULE": "demo_settings", "PYTHONPATH": f"{self.path}:{ROOT}"}
        return subprocess.run(
            [sys.executable, *args], cwd=self.path, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )

    def startslice(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "django", "startslice", *args)

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return self.run("-c", "import django; django.setup()\n" + code)


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}{result.stderr}"
    return result.stdout


def failed(result: subprocess.CompletedProcess[str]) -> str:
    """The CommandError message of a run that must have failed with one."""
    assert result.returncode != 0, f"expected a failure\n{result.stdout}{result.stderr}"
    assert "CommandError" in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("kind", "name", "tests", "parameter"),
    [
        ("command", "add_note", 6, "subject_id"),
        ("view", "note_history", 4, "subject_id"),
        ("projection", "note_counts", 4, "key"),
    ],
)
def test_a_generated_slice_is_discovered_served_and_passes_its_test(
    tmp_path: Path, kind: str, name: str, tests: int, parameter: str
) -> None:
    project = Project(tmp_path, "shop")
    project.app("shop")

    output = succeeded(project.startslice(kind, name))

    slices = tmp_path / "shop" / "slices"
    assert f"Created {slices / f'{name}.py'}" in output
    assert f"Created {slices / f'test_{name}.py'}" in output
    assert "System check identified no issues" in succeeded(project.run("-m", "django", "check"))
    class_name = "".join(word.capitalize() for word in name.split("_"))
    route = name.replace("_", "-")
    served = project.python(
        "from django.urls import resolve\n"
        "from fairway_django.framework import registry\n"
        f"print(sorted(registry.{kind}s), resolve('/api/{route}/s1').kwargs)"
    )
    assert succeeded(served).split("\n")[0] == f"['{name}'] {{'{parameter}': 's1'}}"
    assert f"{tests} passed" in succeeded(project.run("-m", "pytest", "-p", "no:cacheprovider"))
    assert f"class {class_name}(" in (slices / f"{name}.py").read_text()


def test_it_creates_the_slices_package_of_an_app_that_has_none(tmp_path: Path) -> None:
    project = Project(tmp_path, "shop")
    project.app("shop", slices=False)

    succeeded(project.startslice("command", "add_note", "shop"))

    slices = tmp_path / "shop" / "slices"
    assert sorted(path.name for path in slices.iterdir()) == [
        "__init__.py", "add_note.py", "test_add_note.py",
    ]
    imported = project.python("import shop.slices.add_note as m; print(m.AddNote.route)")
    assert succeeded(imported).strip() == "add-note/<str:subject_id>"


def test_an_app_named_slices_is_its_own_slices_package(tmp_path: Path) -> None:
    project = Project(tmp_path, "slices")
    project.app("slices", slices=False)

    succeeded(project.startslice("view", "note_history"))

    assert (tmp_path / "slices" / "note_history.py").is_file()
    assert (tmp_path / "slices" / "test_note_history.py").is_file()
    assert not (tmp_path / "slices" / "slices").exists()


def test_an_app_with_a_slices_module_is_asked_to_make_it_a_package(tmp_path: Path) -> None:
    project = Project(tmp_path, "shop")
    (project.app("shop", slices=False) / "slices.py").write_text("")

    message = failed(project.startslice("command", "add_note"))

    assert f"{tmp_path / 'shop' / 'slices.py'} is a module" in message
    assert not (tmp_path / "shop" / "slices").exists()


@pytest.mark.parametrize("existing", ["add_note.py", "test_add_note.py"])
def test_it_never_overwrites_a_file(tmp_path: Path, existing: str) -> None:
    project = Project(tmp_path, "shop")
    slices = project.app("shop") / "slices"
    (slices / existing).write_text("# someone's work\n")

    message = failed(project.startslice("command", "add_note"))

    assert f"{slices / existing} already exists" in message
    assert (slices / existing).read_text() == "# someone's work\n"
    assert sorted(path.name for path in slices.iterdir()) == ["__init__.py", existing]


def test_without_app_it_needs_exactly_one_app_with_slices(tmp_path: Path) -> None:
    project = Project(tmp_path, "shop", "billing")
    project.app("shop", slices=False)
    project.app("billing", slices=False)

    assert "No installed app has a slices package" in failed(
        project.startslice("command", "add_note")
    )

    (tmp_path / "shop" / "slices").mkdir()
    (tmp_path / "shop" / "slices" / "__init__.py").write_text("")
    (tmp_path / "billing" / "slices").mkdir()
    (tmp_path / "billing" / "slices" / "__init__.py").write_text("")
    message = failed(project.startslice("command", "add_note"))
    assert "Several installed apps have slices (shop, billing)" in message
    assert not (tmp_path / "shop" / "slices" / "add_note.py").exists()


@pytest.mark.parametrize("kind", ["automation", "Command", ""])
def test_kind_is_command_view_or_projection(kind: str) -> None:
    with pytest.raises(
        CommandError, match=f"KIND must be 'command', 'view' or 'projection', not '{kind}'"
    ):
        call_command("startslice", kind, "add_note")


@pytest.mark.parametrize(
    "name", ["AddNote", "add-note", "add note", "1st_note", "_note", "add__note", "note_", "class"]
)
def test_name_is_a_snake_case_module_name(name: str) -> None:
    with pytest.raises(CommandError, match="NAME must be a snake_case Python module name"):
        call_command("startslice", "command", name)


@pytest.mark.parametrize("name", ["test_note", "note_test", "tests", "conftest", "migrations"])
def test_name_is_not_one_that_discovery_skips(name: str) -> None:
    with pytest.raises(CommandError, match=f"NAME '{name}' is a name that slice discovery skips"):
        call_command("startslice", "command", name)


def test_app_is_an_installed_app_label() -> None:
    with pytest.raises(CommandError, match="APP 'shop' is not the label of an installed app"):
        call_command("startslice", "command", "add_note", "shop")
