#!/usr/bin/env bash
# Run the example project on this machine, with the embedded event store in var/store:
# creates .venv (Python 3.11) on first run, migrates Django's tables, serves http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_venv.sh

if ! python=$(find_python 3.11); then
    echo "demo.sh needs Python 3.11 (python3.11 on PATH, or installed with pyenv)." >&2
    exit 1
fi
ensure_venv "$python" .venv

mkdir -p var
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
export FAIRWAY_STORE_URL=${FAIRWAY_STORE_URL:-embedded://$PWD/var/store}

.venv/bin/python manage.py migrate --noinput
cat <<INFO

Fairway demo, events stored at $FAIRWAY_STORE_URL
  Store:     http://127.0.0.1:8000/api/fairway/health/  (a round trip to the store)
  API docs:  http://127.0.0.1:8000/api/docs/
  Admin:     http://127.0.0.1:8000/admin/  (create a user: .venv/bin/python manage.py createsuperuser)

INFO
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
