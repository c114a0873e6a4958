"""Reads of the outbox, and the offer a text-message reply answers.

Who may see an intake's delivery log is decided by ``intake.selectors`` (the intake itself) and
the coordinator role in the intake's department (checked by the view).
"""

from __future__ import annotations

from django.db.models import QuerySet

from intake.models import Intake

from .models import Notification


def notifications_for_intake(*, intake: Intake) -> QuerySet[Notification]:
    """Every message written for ``intake``, oldest first, with its recipient (one query)."""
    return (
        Notification.objects.filter(intake=intake)
        .select_related("recipient")
        # The log never shows what a message said or where it went, only that it went.
        .defer("body", "subject", "to", "idempotency_key")
        .order_by("created_at", "pk")
    )
