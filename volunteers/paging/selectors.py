"""Paging's reads: a volunteer's assignment, an intake's offers, the offer a text reply answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from intake.selectors import companion_intake_ids
from volunteers.models import OFFER_OPEN_FOR, Offer

# After an assignment ends (the walk-in closed, or the person was admitted), its page says only
# that it ended, for this long; then it is gone (404). Nothing about the person is shown then.
ASSIGNMENT_ENDED_NOTICE = timedelta(hours=12)


def _assignments_of(user: User) -> QuerySet[Offer]:
    return Offer.objects.filter(volunteer__user=user, status=Offer.Status.ACCEPTED)


def assignment_for_user(*, user: User, offer_id: int) -> Offer:
    """The volunteer's own assignment (their accepted offer) while it is open, else 404. Open is
    ``intake.selectors.companion_intake_ids``: one definition of the companion for every page."""
    return get_object_or_404(
        _assignments_of(user)
        .filter(intake_id__in=companion_intake_ids(user=user))
        .select_related("intake__person", "intake__department", "volunteer__user", "department"),
        pk=offer_id,
    )


def ended_assignment_for_user(*, user: User, offer_id: int, now: datetime | None = None) -> Offer | None:
    """The volunteer's assignment that ended (closed, or the person admitted) less than
    ``ASSIGNMENT_ENDED_NOTICE`` ago and is no longer open, else None. The page shows only that it
    ended: the station and when, never the person."""
    now = now or timezone.now()
    since = now - ASSIGNMENT_ENDED_NOTICE
    return (
        _assignments_of(user)
        .exclude(intake_id__in=companion_intake_ids(user=user))
        .filter(
            Q(intake__closed_at__gte=since) | Q(intake__placement__admitted_at__gte=since),
        )
        .select_related("department")
        .only("pk", "department__name", "department__time_zone", "intake_id")
        .filter(pk=offer_id)
        .first()
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
