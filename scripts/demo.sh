#!/usr/bin/env bash
# Run the example project on this machine, with the embedded event store in var/store:
# creates .venv (Python 3.11) on first run, migrates Django's tables, creates the user `demo`
# (the API's, with a token, and the admin's), then runs the web server on http://127.0.0.1:8000/, the projectors and
# the automation worker together (Procfile); Ctrl-C stops all of them.
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
# Three waiting-list notifications in ten fail, to show retries and dead letters at work.
export SLICES_NOTIFY_FAILURE_RATE=${SLICES_NOTIFY_FAILURE_RATE:-0.3}
DEMO_PASSWORD=fairway-demo

.venv/bin/python manage.py migrate --noinput
# The demo user is created once (a superuser, so it can log in to the admin and act there);
# later runs find it and print its token again.
token=$(.venv/bin/python manage.py shell --no-imports -c "
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user, created = get_user_model().objects.get_or_create(username='demo')
if created:
    user.set_password('$DEMO_PASSWORD')
    user.is_staff = user.is_superuser = True
    user.save()
print(Token.objects.get_or_create(user=user)[0].key)
")
api=http://127.0.0.1:8000/api
cat <<INFO

Fairway demo, events stored at $FAIRWAY_STORE_URL
  Store:     $api/fairway/health/  (a round trip to the store)
  API docs:  $api/docs/  (Authorize with: Token $token)
  Admin:     http://127.0.0.1:8000/admin/fairway/  (events, projections, automations)
  User:      demo, password $DEMO_PASSWORD (API and admin), token $token

Try it (docs/example.md walks through more):
  export TOKEN=$token
  curl -s -X POST $api/courses -H "Authorization: Token \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"course_id": "algebra", "title": "Algebra", "capacity": 2}'
  curl -s -X POST $api/students -H "Authorization: Token \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"student_id": "ada", "username": "ada", "name": "Ada Lovelace"}'
  curl -s -X POST $api/courses/algebra/subscriptions -H "Authorization: Token \$TOKEN" \\
       -H 'Content-Type: application/json' -d '{"student_id": "ada"}'
  curl -s $api/courses/algebra -H "Authorization: Token \$TOKEN"
  curl -s "$api/course-list?has_free_places=true" -H "Authorization: Token \$TOKEN"
  .venv/bin/python manage.py fairway_status

INFO
# honcho runs each Procfile line with .venv's python first on PATH, and on Ctrl-C sends every
# process SIGTERM: the runners finish their batch or job and give their leases back.
PATH="$PWD/.venv/bin:$PATH" exec .venv/bin/honcho start --procfile Procfile
