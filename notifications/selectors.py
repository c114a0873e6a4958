"""Reads of the outbox, and the offer a text-message reply answers.

Who may see an intake's delivery log is decided by ``intake.selectors`` (the intake itself) and
the coordinator role in the intake's department (checked by the view).
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from intake.models import Intake
from volunteers.models import OFFER_OPEN_FOR, Offer

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


def phone_as_e164(raw: str) -> str | None:
    """``raw`` as stored on a volunteer (E.164), or None when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw or "", settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def offer_for_sms_reply(*, phone: str, now: datetime | None = None) -> Offer | None:
    """The offer a YES or NO texted from ``phone`` (E.164) answers.

    The most recent offer still open; failing that, the most recent one made within
    ``OFFER_OPEN_FOR``, so that a late answer is told what became of it ("someone else is
    already on the way") rather than that nothing was found. Only active volunteers count.
    """
    now = now or timezone.now()
    offers = Offer.objects.filter(
        volunteer__phone=phone, volunteer__is_active=True, volunteer__user__is_active=True
    ).select_related("volunteer__user", "department")
    open_offer = (
        offers.filter(status=Offer.Status.PENDING, expires_at__gt=now).order_by("-created_at", "-pk").first()
    )
    if open_offer is not None:
        return open_offer
    return offers.filter(created_at__gt=now - OFFER_OPEN_FOR).order_by("-created_at", "-pk").first()
