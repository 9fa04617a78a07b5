"""The benchmark's ORM peer app."""

from __future__ import annotations

from django.apps import AppConfig


class OrmCoursesConfig(AppConfig):
    name = "bench.orm_courses"
    label = "orm_courses"
    default_auto_field = "django.db.models.BigAutoField"
