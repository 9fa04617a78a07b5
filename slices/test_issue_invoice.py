"""Issuing invoices: numbered 1, 2, 3, ... to registered students."""

from __future__ import annotations

from fairway_django.testing import Scenario

from .events import InvoiceIssued, StudentRegistered
from .issue_invoice import IssueInvoice

ADA = StudentRegistered(student_id="s1", username="ada", name="Ada Lovelace")


def invoice(number: int, student_id: str = "s1") -> InvoiceIssued:
    return InvoiceIssued(
        invoice_number=number, student_id=student_id, amount_cents=5000, description="Algebra"
    )


def test_the_first_invoice_is_number_one(fairway: Scenario) -> None:
    fairway.given(ADA)
    fairway.when(IssueInvoice, student_id="s1", amount_cents=5000, description="Algebra")
    fairway.then(invoice(1))


def test_the_next_invoice_follows_the_last_whoever_it_was_for(fairway: Scenario) -> None:
    fairway.given(
        ADA, StudentRegistered(student_id="s2", username="grace", name="Grace Hopper"),
        invoice(1), invoice(2, student_id="s2"),
    )
    fairway.when(IssueInvoice, student_id="s1", amount_cents=5000, description="Algebra")
    fairway.then(invoice(3))


def test_an_unknown_student_gets_no_invoice(fairway: Scenario) -> None:
    fairway.when(IssueInvoice, student_id="s1", amount_cents=5000, description="Algebra")
    fairway.then_rejected("student_not_found")
