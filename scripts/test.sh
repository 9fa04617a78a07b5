#!/usr/bin/env bash
# Type-check and test: mypy and pytest on Python 3.11 with Django 5.2 LTS (.venv), then pytest
# on Python 3.12 or 3.13 with Django 6.1 (.venv-py3.1x) when either is installed.
# Arguments are passed to pytest, e.g. `scripts/test.sh -k checks -x`.
# Every step runs even if an earlier one fails; the exit status is non-zero if any failed
# (including pytest's exit status 5, "no tests collected").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_venv.sh

failed=()

step() {
    local name=$1 code=0
    shift
    echo
    echo "==> $name"
    "$@" || code=$?
    if ((code == 5)); then
        echo "==> $name: no tests were collected (exit status 5)" >&2
    fi
    if ((code != 0)); then
        failed+=("$name")
    fi
}

if ! python=$(find_python 3.11); then
    echo "test.sh needs Python 3.11 (python3.11 on PATH, or installed with pyenv)." >&2
    exit 1
fi
ensure_venv "$python" .venv
step "mypy fairway_django slices (Python 3.11, Django 5.2)" .venv/bin/python -m mypy fairway_django slices
step "pytest (Python 3.11, Django 5.2)" .venv/bin/python -m pytest "$@"

newer=""
for version in 3.12 3.13; do
    if python=$(find_python "$version"); then
        newer=$version
        break
    fi
done
if [[ -n $newer ]]; then
    ensure_venv "$python" ".venv-py$newer"
    step "pytest (Python $newer, Django 6.1)" ".venv-py$newer/bin/python" -m pytest "$@"
else
    echo
    echo "==> skipped the Django 6.1 run: neither Python 3.12 nor 3.13 is installed"
fi

echo
if ((${#failed[@]})); then
    echo "test.sh: FAILED: $(IFS=';'; echo "${failed[*]}")" >&2
    exit 1
fi
echo "test.sh: every step passed"
