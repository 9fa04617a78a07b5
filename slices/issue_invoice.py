"""Issue an invoice to a student, numbered 1, 2, 3, ... without gaps or repeats.

Every invoice reads the last one: two invoices issued at the same moment conflict, and the one
that loses decides again with the next number. So the numbers stay gapless under concurrency,
at the price of issuing one invoice at a time (hence the longer retry).
"""

from __future__ import annotations

from rest_framework import serializers

from fairway_django.framework import Backoff, Command, Reader, Rejected

from .events import InvoiceIssued, StudentRegistered


class IssueInvoice(Command):
    route = "invoices"
    rejections = {"student_not_found": 404}
    retry = Backoff(attempts=50)

    class Input(serializers.Serializer):
        student_id = serializers.CharField(max_length=64)
        amount_cents = serializers.IntegerField(min_value=1)
        description = serializers.CharField(max_length=200)

    def decide(
        self, read: Reader, student_id: str, amount_cents: int, description: str
    ) -> InvoiceIssued:
        if not read.exists(StudentRegistered, student_id=student_id):
            raise Rejected("student_not_found", f"There is no student {student_id!r}.")
        last = read.last(InvoiceIssued)
        number = 1 if last is None else last.invoice_number + 1
        return InvoiceIssued(
            invoice_number=number, student_id=student_id,
            amount_cents=amount_cents, description=description,
        )
