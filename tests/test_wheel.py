"""The wheel a user installs: what it holds, and a new Django project built on it alone.

The wheel is built from a copy of the work tree (building writes ``build/`` and an
``.egg-info`` next to the sources), then installed into a fresh virtualenv, where
``django-admin startproject`` and the steps of docs/install.md make a project with one app of
slices that is called over HTTP. Dependencies come from the package index, constrained to
requirements.txt: the versions this repository is tested with, which the wheel's ranges must
admit. Without the index both tests skip, saying so.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from base64 import b64encode
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import fairway_django

ROOT = Path(__file__).resolve().parent.parent
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
# Building (setuptools in an isolated environment) and installing need minutes, not seconds.
pytestmark = pytest.mark.timeout(300)


def index_unreachable() -> str | None:
    try:
        urllib.request.urlopen(INDEX, timeout=10).close()
    except (OSError, urllib.error.URLError) as error:
        return (
            f"the package index {INDEX} is unreachable ({error}); building the wheel and "
            f"installing its dependencies need it"
        )
    return None


def run(args: list[str | Path], *, cwd: Path, env: Mapping[str, str] | None = None,
        timeout: float = 240) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))}: exit status {result.returncode}\n"
        f"{result.stdout}{result.stderr}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the work tree as a clean checkout would have it."""
    if reason := index_unreachable():
        pytest.skip(reason)
    copy = tmp_path_factory.mktemp("source") / "fairway"
    ignored = shutil.ignore_patterns(
        ".git", ".venv*", "var", "build", "dist", "*.egg-info", "staticfiles", "__pycache__",
        ".*_cache", ".hypothesis", ".env",
    )
    shutil.copytree(ROOT, copy, ignore=ignored)
    return copy


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source], cwd=out)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_the_app_its_types_templates_and_static_files_and_nothing_else(
    wheel: Path, source: Path
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"fairway_django-{fairway_django.__version__}.dist-info"

    assert {name.split("/")[0] for name in names} == {"fairway_django", dist_info}
    package = source / "fairway_django"
    modules = {
        path.relative_to(source).as_posix() for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    templates = {
        path.relative_to(source).as_posix()
        for pattern in ("scaffold/*", "templates/admin/fairway/*", "static/fairway/*")
        for path in package.glob(pattern)
    }
    assert templates >= {
        "fairway_django/scaffold/command.py-tpl", "fairway_django/scaffold/view.py-tpl",
        "fairway_django/templates/admin/fairway/events.html",
        "fairway_django/static/fairway/admin.css",
    }
    assert {name for name in names if name.startswith("fairway_django/")} == (
        modules | templates | {"fairway_django/py.typed"}
    )

    metadata = email.message_from_bytes(zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA"))
    assert metadata["Name"] == "fairway-django"
    assert metadata["Version"] == fairway_django.__version__
    assert metadata["Requires-Python"] == ">=3.11"
    requires = metadata.get_all("Requires-Dist")
    assert "Django<7,>=5.2" in requires
    assert "foundationdb<7.4,>=7.3" in requires
    assert 'pytest-django<5,>=4.14; extra == "testing"' in requires
    assert not any(name.lower().startswith(("django-environ", "gunicorn")) for name in requires)


def test_a_new_project_installs_the_wheel_and_serves_its_own_slice(
    wheel: Path, tmp_path: Path
) -> None:
    env = fresh_env()
    python = tmp_path / "venv" / "bin" / "python"
    venv.create(tmp_path / "venv", with_pip=False)
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--constraint",
         ROOT / "requirements.txt", f"{wheel}[testing]"], cwd=tmp_path, env=env)
    where = run([python, "-c", "import fairway_django; print(fairway_django.__file__)"],
                cwd=tmp_path, env=env)
    assert where.startswith(str(tmp_path / "venv")), where

    site = tmp_path / "site"
    site.mkdir()
    run([tmp_path / "venv" / "bin" / "django-admin", "startproject", "demo", site],
        cwd=tmp_path, env=env)
    manage = [python, site / "manage.py"]
    run([*manage, "startapp", "notes"], cwd=site, env=env)
    write_the_install_steps(site)
    write_slices(site / "notes" / "slices")
    run([*manage, "startslice", "command", "archive_note", "notes"], cwd=site, env=env)

    run([*manage, "migrate", "--noinput"], cwd=site, env=env)
    assert "no issues" in run([*manage, "check", "--fail-level", "WARNING"], cwd=site, env=env)
    run([*manage, "createsuperuser", "--noinput", "--username", "ada", "--email",
         "ada@example.com"], cwd=site, env={**env, "DJANGO_SUPERUSER_PASSWORD": "ada-secret-1"})
    assert "5 passed" in run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                             cwd=site, env=env)

    with server(manage, site, env) as base:
        ada = {"Authorization": "Basic " + b64encode(b"ada:ada-secret-1").decode()}
        status, created, _ = request("POST", f"{base}/api/notes/n1", {"text": "Hello"}, ada)
        assert status == 201, created
        assert [(event["type"], event["tags"], event["data"]) for event in created["events"]] == [
            ("NoteAdded", ["note:n1"], {"note_id": "n1", "text": "Hello"})
        ]
        status, again, _ = request("POST", f"{base}/api/notes/n1", {"text": "Hi"}, ada)
        assert (status, again["code"]) == (409, "note_exists")
        status, _, _ = request("POST", f"{base}/api/notes/n2", {"text": "Hello"}, {})
        assert status in (401, 403)

        # The slice startslice wrote, called as docs/install.md does: a POST without a body.
        status, archived, _ = request("POST", f"{base}/api/archive-note/n1", None, ada)
        assert status == 201, archived
        assert [event["type"] for event in archived["events"]] == ["ArchiveNoteRecorded"]

        url = f"{base}/api/notes/n1?min_position={created['position']}"
        status, note, headers = request("GET", url, None, ada)
        assert (status, note) == (200, {"note_id": "n1", "text": "Hello"})
        assert headers["Fairway-Position"] == created["position"]


def fresh_env() -> dict[str, str]:
    """This environment less what would point a process at the repository or its settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "FAIRWAY_", "PYTEST_", "VIRTUAL_ENV"))
        and name != "PYTHONPATH"
    }


def write_the_install_steps(site: Path) -> None:
    """docs/install.md's steps: INSTALLED_APPS, FAIRWAY, the URLs and the pytest plugin."""
    with (site / "demo" / "settings.py").open("a") as settings:
        settings.write(
            '\nINSTALLED_APPS += ["rest_framework", "fairway_django", "notes"]\n'
            'FAIRWAY = {"STORE_URL": f"embedded://{BASE_DIR / \'var\' / \'store\'}"}\n'
        )
    (site / "demo" / "urls.py").write_text(
        "from django.contrib import admin\n"
        "from django.urls import include, path\n\n"
        'urlpatterns = [path("admin/", admin.site.urls), '
        'path("api/", include("fairway_django.urls"))]\n'
    )
    (site / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = demo.settings\n")
    (site / "conftest.py").write_text('pytest_plugins = ["fairway_django.testing"]\n')


def write_slices(slices: Path) -> None:
    slices.mkdir()
    (slices / "__init__.py").write_text("")
    (slices / "add_note.py").write_text('''\
"""Add a note, once per note id."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta
from rest_framework import serializers

from fairway_django.framework import Command, Event, Reader, Rejected, Tag, View, on


class NoteAdded(Event):
    note_id: Annotated[str, Tag]
    text: Annotated[str, Meta(min_length=1)]


class AddNote(Command):
    route = "notes/<str:note_id>"
    rejections = {"note_exists": 409}

    class Input(serializers.Serializer):
        note_id = serializers.CharField(max_length=64)
        text = serializers.CharField(max_length=200)

    def decide(self, read: Reader, note_id: str, text: str) -> NoteAdded:
        if read.exists(NoteAdded, note_id=note_id):
            raise Rejected("note_exists", f"There is a note {note_id!r} already.")
        return NoteAdded(note_id=note_id, text=text)


class Note(View):
    route = "notes/<str:note_id>"

    class Output(serializers.Serializer):
        note_id = serializers.CharField()
        text = serializers.CharField()

    def initial(self, note_id: str) -> dict[str, Any]:
        return {"note_id": note_id, "text": ""}

    @on(NoteAdded)
    def added(self, state: dict[str, Any], event: NoteAdded) -> dict[str, Any]:
        return {**state, "text": event.text}
''')
    (slices / "test_add_note.py").write_text('''\
from fairway_django.testing import Scenario

from .add_note import AddNote, Note, NoteAdded


def test_a_note_is_added_and_shown(fairway: Scenario) -> None:
    fairway.when(AddNote, note_id="n1", text="Hello")
    fairway.then(NoteAdded(note_id="n1", text="Hello"))
    fairway.then_view(Note, {"note_id": "n1", "text": "Hello"}, note_id="n1")


def test_over_http_a_note_is_added_once(fairway: Scenario) -> None:
    fairway.given(NoteAdded(note_id="n1", text="Hello"))
    fairway.when_request("POST", "/api/notes/n1", {"text": "Hi"})
    fairway.then_status(409, {"code": "note_exists", "detail": "There is a note 'n1' already."})
''')


@contextmanager
def server(manage: list[Path], site: Path, env: Mapping[str, str]) -> Iterator[str]:
    """``manage.py runserver`` on a free port until the block ends; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (site / "runserver.log").open("w")
    process = subprocess.Popen(
        [*map(str, manage), "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while request("GET", f"{base}/api/fairway/health/", None, {})[0] != 200:
            assert process.poll() is None, (site / "runserver.log").read_text()
            assert time.monotonic() < deadline, (site / "runserver.log").read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def request(
    method: str, url: str, data: Any, headers: Mapping[str, str]
) -> tuple[int, Any, Mapping[str, str]]:
    """Status, body and headers of a request (JSON, if any); status 0 while nothing answers."""
    body = None if data is None else json.dumps(data).encode()
    json_type = {} if body is None else {"Content-Type": "application/json"}
    sent = urllib.request.Request(url, body, {**headers, **json_type}, method=method)
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, parsed(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, parsed(error.read()), error.headers
    except (urllib.error.URLError, ConnectionError):
        return 0, None, {}


def parsed(body: bytes) -> Any:
    """A JSON body as data; any other body as its text, for the assertion's message."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")
