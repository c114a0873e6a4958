"""Paging's reads: a volunteer's assignment, an intake's offers, the offer a text reply answers."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from volunteers.models import OFFER_OPEN_FOR, Offer


def assignment_for_user(*, user: User, offer_id: int) -> Offer:
    """The volunteer's own accepted offer (their assignment), else 404."""
    return get_object_or_404(
        Offer.objects.select_related("intake__person", "intake__department", "volunteer__user", "department"),
        pk=offer_id,
        volunteer__user=user,
        status=Offer.Status.ACCEPTED,
    )


def offers_for_intake(*, intake) -> QuerySet:
    return Offer.objects.filter(intake=intake).select_related("volunteer__user").order_by("created_at", "pk")


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
