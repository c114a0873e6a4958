from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from volunteers.models import Offer


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
