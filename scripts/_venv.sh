# shellcheck shell=bash
# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run): find a Python, keep a venv.

# Print a command that runs Python $1 (like 3.12), or return 1. pyenv puts a shim on PATH for
# every version it has installed, but a shim only runs the versions selected by `pyenv global`
# or `pyenv local`, so each candidate must prove it runs; pyenv installs that are not selected
# are used directly from $PYENV_ROOT.
find_python() {
    local version=$1 candidate
    local candidates=("python$version")
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        candidates+=("$candidate")
    done
    for candidate in "${candidates[@]}"; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            [[ $("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) == "$version" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Make venv $2 run Python $1 with requirements.txt installed. The hash of requirements.txt is
# stamped inside the venv, so pip runs only when the file has changed (or the venv is new).
ensure_venv() {
    local python=$1 venv=$2 want have stamp hash
    want=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    have=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    if [[ $have != "$want" ]]; then
        echo "Creating $venv (Python $want)"
        "$python" -m venv --clear "$venv"
    fi
    stamp="$venv/.requirements.sha256"
    hash=$("$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' requirements.txt)
    if [[ ! -f $stamp || $(<"$stamp") != "$hash" ]]; then
        echo "Installing requirements.txt into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
        echo "$hash" >"$stamp"
    fi
}
