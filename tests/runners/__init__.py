"""An app whose slices the runner tests start as real ``manage.py`` subprocesses."""
