"""schemathesis against the example project as it is deployed: gunicorn, token auth, a store.

``st run --checks all`` generates requests from the published OpenAPI schema (valid and
invalid ones, and stateful sequences that follow the links between operations) and checks
every answer: no 5xx, every status, header, content type and body as the schema says, valid
requests accepted and invalid ones refused. A failure here means the schema and the
endpoints disagree, which is what clients generated from the schema would trip over.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .gunicorn import create_user_with_token, gunicorn, server_env
from .runners.process import ManagePy

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Examples per operation and phase: enough to reach every status, small enough for CI.
MAX_EXAMPLES = "15"

pytestmark = pytest.mark.timeout(600)

#: schemathesis's threads: hypothesis parses lambdas' source with ``ast.parse``, which CPython
#: 3.11 can fail with "SystemError: AST constructor recursion depth mismatch" when two threads
#: parse at once (gh-106905, fixed in later releases); one thread there.
WORKERS = "2" if sys.version_info >= (3, 12) else "1"


def test_schemathesis_finds_nothing_against_the_example_project(tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is pinned in requirements.txt; its `st` is missing"
    # A fuzzer asks for positions no command returned: answer those within half a second.
    env = server_env(tmp_path, FAIRWAY_MIN_POSITION_TIMEOUT="0.5")
    token = create_user_with_token(env)
    # The projections' endpoints answer 503 until a runner has built their read models.
    projectors = ManagePy(env, tmp_path / "projectors.log", "run_projectors")
    try:
        with gunicorn(env, tmp_path / "gunicorn.log", workers=2) as url:
            result = subprocess.run(
                [st, "--config-file", str(CONFIG), "--no-color", "run", f"{url}/api/schema/",
                 "--checks", "all", "--header", f"Authorization: Token {token}",
                 "--max-examples", MAX_EXAMPLES, "--seed", "20261203", "--workers", WORKERS],
                cwd=tmp_path, capture_output=True, text=True, timeout=540, check=False,
            )
    finally:
        projectors.signal(signal.SIGTERM)
        projectors.wait()
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    assert "Tested: 9" in result.stdout or "Tested:" in result.stdout, report
