"""Reads of the outbox, and the offer a text-message reply answers.

Who may see an intake's delivery log is decided by intake (``intake.views.intake_log``): this app
knows no domain, only the intake's id its messages were written for.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet

from accounts.models import User

from .models import ContactVerification, Notification
from .verification import open_code

# How many of their recent test pages a person sees, with each one's delivery state.
RECENT_TEST_PAGES = 6


def notifications_for_intake(*, intake_id: UUID) -> QuerySet[Notification]:
    """Every message written for the intake ``intake_id``, oldest first, with its recipient (one query)."""
    return (
        Notification.objects.filter(intake_id=intake_id)
        .select_related("recipient")
        # The log never shows what a message said or where it went, only that it went.
        .defer("body", "subject", "to", "idempotency_key")
        .order_by("created_at", "pk")
    )


@dataclass
class ContactMethod:
    """One way to reach a person, as their settings page shows it."""

    channel: str
    label: str
    value: str
    verified: bool
    open_code: ContactVerification | None
    code_form: object = None

    @property
    def send_label(self) -> str:
        verb = "Text" if self.channel == Notification.Channel.SMS else "E-mail"
        return f"{verb} me a {'new ' if self.open_code else ''}code"


def contact_methods(*, user: User, phone: str, phone_verified: bool, code_form=None) -> list[ContactMethod]:
    """The person's phone (``phone``: a volunteer's own, or the user's) and the user's e-mail, each
    verified or not, with the code that can still be entered. ``code_form`` (a bound form with
    errors) is shown under the method it was posted for."""
    methods = [
        ContactMethod(
            channel=Notification.Channel.SMS,
            label="Phone",
            value=phone,
            verified=bool(phone and phone_verified),
            open_code=open_code(user=user, channel=Notification.Channel.SMS, value=phone) if phone else None,
        ),
        ContactMethod(
            channel=Notification.Channel.EMAIL,
            label="E-mail",
            value=user.email,
            verified=bool(user.email and user.email_verified_at),
            open_code=open_code(user=user, channel=Notification.Channel.EMAIL, value=user.email)
            if user.email
            else None,
        ),
    ]
    for method in methods:
        if code_form is not None and code_form.data.get("channel") == method.channel:
            method.code_form = code_form
    return methods


def recent_test_pages(*, user: User) -> list[Notification]:
    """The user's latest test pages, newest first, with their delivery state (not their text)."""
    return list(
        Notification.objects.filter(recipient=user, kind=Notification.Kind.TEST_PAGE)
        .defer("body", "subject", "idempotency_key")
        .order_by("-created_at", "-pk")[:RECENT_TEST_PAGES]
    )
