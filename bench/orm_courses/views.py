"""``POST /api/courses/<course_id>/subscriptions``: the same rules and answers as the slice.

The course row and then the student row are locked (``SELECT ... FOR UPDATE``) before anything
is counted, so two requests for one course, or for one student, run one after the other; the
fixed lock order (course, then student) means they cannot deadlock. On SQLite the locks are
no-ops and ``transaction_mode = "IMMEDIATE"`` (see settings) serialises writers instead.
Rejections answer ``{"code", "detail"}`` with the statuses the slice declares.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Course, Student, Subscription

MAX_COURSES_PER_STUDENT = 5


class SubscribeInput(serializers.Serializer[Any]):
    course_id = serializers.CharField(max_length=64)
    student_id = serializers.CharField(max_length=64)


class SubscribeStudentToCourse(APIView):
    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated,)

    def post(self, request: Request, course_id: str) -> Response:
        given = SubscribeInput(data={**request.data, "course_id": course_id})
        given.is_valid(raise_exception=True)
        student_id = given.validated_data["student_id"]
        with transaction.atomic():
            course = Course.objects.select_for_update().filter(course_id=course_id).first()
            if course is None:
                return rejected(404, "course_not_found", f"There is no course {course_id!r}.")
            student = Student.objects.select_for_update().filter(student_id=student_id).first()
            if student is None:
                return rejected(404, "student_not_found", f"There is no student {student_id!r}.")
            if Subscription.objects.filter(course=course, student=student).exists():
                return rejected(
                    409, "already_subscribed", f"{student_id!r} is already in {course_id!r}."
                )
            if Subscription.objects.filter(course=course).count() >= course.capacity:
                return rejected(409, "course_full", f"Course {course_id!r} has no free place.")
            if Subscription.objects.filter(student=student).count() >= MAX_COURSES_PER_STUDENT:
                return rejected(
                    409,
                    "too_many_courses",
                    f"{student_id!r} already has {MAX_COURSES_PER_STUDENT} courses.",
                )
            subscription = Subscription.objects.create(course=course, student=student)
        return Response(
            {"id": subscription.pk, "course_id": course_id, "student_id": student_id},
            status=status.HTTP_201_CREATED,
        )


def rejected(status_code: int, code: str, detail: str) -> Response:
    return Response({"code": code, "detail": detail}, status=status_code)
