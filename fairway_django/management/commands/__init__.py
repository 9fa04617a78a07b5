"""One module per ``manage.py`` command, named as the command is typed."""
