"""The example project as a user meets it: ``manage.py``, the API schema, the Docker setup."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import django
import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent


def project_env(**overrides: str) -> dict[str, str]:
    """The environment of a fresh shell: no test settings module, no Fairway or Django variables."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "FAIRWAY_")) and name != "DATABASE_URL"
    }
    env.update(overrides)
    return env


def run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-c", code], project_env(**env))


def test_manage_py_check_passes_in_a_fresh_process() -> None:
    result = run([sys.executable, "manage.py", "check"], project_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_store_url_comes_from_the_environment() -> None:
    result = python(
        "import django; django.setup(); from fairway_django.conf import fairway_settings; "
        "print(fairway_settings.STORE_URL)",
        DJANGO_SETTINGS_MODULE="project.settings",
        FAIRWAY_STORE_URL="fdb:///etc/foundationdb/fdb.cluster",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fdb:///etc/foundationdb/fdb.cluster"


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a .env file in the work tree sets variables")
def test_without_environment_the_project_uses_an_embedded_store_in_var() -> None:
    result = python(
        "from project import settings; print(settings.FAIRWAY['STORE_URL'], settings.DEBUG)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"embedded://{ROOT / 'var' / 'store'}", "False"]


def test_the_wsgi_server_refuses_to_start_without_a_secret_key() -> None:
    without = python("import project.wsgi")
    assert without.returncode != 0
    assert "The SECRET_KEY setting must not be empty" in without.stderr

    with_key = python("import project.wsgi", DJANGO_SECRET_KEY="a-real-secret")
    assert with_key.returncode == 0, with_key.stderr

    debug = python("import project.wsgi", DJANGO_DEBUG="true")
    assert debug.returncode == 0, debug.stderr


def test_each_python_gets_the_django_that_requirements_txt_pins_for_it() -> None:
    expected = (5, 2) if sys.version_info < (3, 12) else (6, 1)
    assert django.VERSION[:2] == expected


def test_the_openapi_schema_is_served() -> None:
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Fairway example API"


def test_the_swagger_ui_is_served() -> None:
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


@pytest.mark.django_db
def test_the_admin_login_page_is_served() -> None:
    assert APIClient().get("/admin/login/").status_code == 200


# --- Docker -----------------------------------------------------------------------------------


def test_docker_setup_uses_the_foundationdb_version_of_the_pinned_bindings() -> None:
    pinned = re.search(r"^foundationdb==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned
    version = pinned.group(1)

    compose = (ROOT / "docker-compose.yml").read_text()
    assert set(re.findall(r"image: foundationdb/foundationdb:(\S+)", compose)) == {version}
    assert f"ARG FDB_VERSION={version}\n" in (ROOT / "Dockerfile").read_text()


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_docker_compose_config_is_valid() -> None:
    valid = run(["docker-compose", "config", "-q"], project_env(DJANGO_SECRET_KEY="x"))
    assert valid.returncode == 0, valid.stderr

    without_key = run(["docker-compose", "config", "-q"], project_env())
    assert without_key.returncode != 0
    assert "set DJANGO_SECRET_KEY" in without_key.stderr


FAKE_FDBCLI = r"""#!/usr/bin/env bash
# Plays a FoundationDB cluster whose state is in $FAKE_FDB/state: new, configured or down.
command=${@: -1}
echo "$command" >> "$FAKE_FDB/calls"
state=$(cat "$FAKE_FDB/state")
case "$command" in
  "status minimal")
    if [[ $state == configured ]]; then echo "The database is available."
    else echo "The database is unavailable; type \`status' for more information."; fi ;;
  status)
    if [[ $state == new ]]; then
      echo "The coordinator(s) have no record of this database. Either the coordinator"
      echo "addresses are incorrect, the coordination state on those machines is missing, or"
      echo "no database has been created."
    else echo "Unable to communicate with the cluster controller."; fi ;;
  "configure new single ssd")
    if [[ $state == new ]]; then echo configured > "$FAKE_FDB/state"; echo "Database created"
    else echo "ERROR: Database already exists!"; exit 1; fi ;;
esac
"""


def run_fdb_init(tmp_path: Path, state: str | None) -> tuple[int, list[str]]:
    """Run docker/fdb-init.sh against a scripted ``fdbcli``; return its exit code and calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fdbcli").write_text(FAKE_FDBCLI)
    (bin_dir / "fdbcli").chmod(0o755)
    (tmp_path / "calls").touch()
    cluster_file = tmp_path / "fdb.cluster"
    if state is not None:
        (tmp_path / "state").write_text(state)
        cluster_file.write_text("docker:docker@127.0.0.1:4500\n")
    env = project_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        FAKE_FDB=str(tmp_path),
        FDB_CLUSTER_FILE=str(cluster_file),
        FDB_INIT_ATTEMPTS="3",
        FDB_INIT_INTERVAL="0",
    )
    result = run(["bash", "docker/fdb-init.sh"], env)
    return result.returncode, (tmp_path / "calls").read_text().splitlines()


def test_fdb_init_creates_a_new_database_then_waits_until_it_is_available(tmp_path: Path) -> None:
    code, calls = run_fdb_init(tmp_path, "new")

    assert code == 0
    assert calls == ["status minimal", "status", "configure new single ssd", "status minimal"]


def test_fdb_init_leaves_a_configured_database_alone(tmp_path: Path) -> None:
    code, calls = run_fdb_init(tmp_path, "configured")

    assert code == 0
    assert calls == ["status minimal"]


def test_fdb_init_fails_when_the_cluster_never_answers(tmp_path: Path) -> None:
    code, calls = run_fdb_init(tmp_path, "down")

    assert code == 1
    assert "configure new single ssd" not in calls
    assert len(calls) == 6


def test_fdb_init_fails_when_no_cluster_file_appears(tmp_path: Path) -> None:
    code, calls = run_fdb_init(tmp_path, None)

    assert code == 1
    assert calls == []
