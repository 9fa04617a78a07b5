"""Tests of the DCB event store (``fairway_django.dcb``) through its public API."""
