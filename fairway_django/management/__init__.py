"""Fairway's ``manage.py`` commands (Django finds them in ``management/commands``)."""
