from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from intake.models import Intake

from .models import Offer, Volunteer


def assignment_for_user(*, user: User, offer_id: int) -> Offer:
    """The volunteer's own accepted offer (their assignment), else 404."""
    return get_object_or_404(
        Offer.objects.select_related("intake__person", "intake__department", "volunteer__user", "department"),
        pk=offer_id,
        volunteer__user=user,
        status=Offer.Status.ACCEPTED,
    )


def active_assignment_intake_ids(*, user: User) -> QuerySet:
    """Intakes the user is the vetted, active, accepted companion of, while still open."""
    return Offer.objects.filter(
        volunteer__in=Volunteer.objects.vetted(on=timezone.localdate()).filter(user=user),
        status=Offer.Status.ACCEPTED,
        intake__status__in=Intake.COMPANION_ENGAGED_STATUSES,
    ).values("intake_id")


def assignment_id_for(*, user: User, intake_id) -> int | None:
    return (
        Offer.objects.filter(intake_id=intake_id, volunteer__user=user, status=Offer.Status.ACCEPTED)
        .values_list("pk", flat=True)
        .first()
    )


def offers_for_intake(*, intake) -> QuerySet:
    return Offer.objects.filter(intake=intake).select_related("volunteer__user").order_by("created_at", "pk")
