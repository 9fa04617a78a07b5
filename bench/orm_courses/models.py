"""Courses, students and their subscriptions, as ordinary ORM rows.

The external ids (``course_id``, ``student_id``) are what the API speaks, as in the Fairway
slices; the rows keep Django's integer keys. The unique constraint is the database's own guard
against subscribing twice; the view checks it first to answer 409 instead of failing.
"""

from __future__ import annotations

from django.db import models


class Course(models.Model):
    course_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    capacity = models.PositiveIntegerField()


class Student(models.Model):
    student_id = models.CharField(max_length=64, unique=True)
    username = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)


class Subscription(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="subscriptions")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="subscriptions")
    subscribed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [  # noqa: RUF012 - Django reads Meta options as lists
            models.UniqueConstraint(fields=["course", "student"], name="one_subscription_per_pair")
        ]
