"""Register a student under a username that no other student has."""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Command, Reader, Rejected

from .events import StudentRegistered


class RegisterStudent(Command):
    route = "students"
    rejections = {"student_exists": 409, "username_taken": 409}

    class Input(serializers.Serializer):
        student_id = serializers.CharField(max_length=64)
        username = serializers.SlugField(max_length=64)
        name = serializers.CharField(max_length=200)

    def decide(self, read: Reader, student_id: str, username: str, name: str) -> StudentRegistered:
        # Each check reads one tag: registrations of other usernames and ids never conflict.
        if read.exists(StudentRegistered, student_id=student_id):
            raise Rejected("student_exists", f"Student {student_id!r} is already registered.")
        if read.exists(StudentRegistered, username=username):
            raise Rejected("username_taken", f"The username {username!r} is taken.")
        return StudentRegistered(student_id=student_id, username=username, name=name)
