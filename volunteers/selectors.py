from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User

from .models import Shift, Volunteer


def volunteer_for_user(*, user: User) -> Volunteer | None:
    return Volunteer.objects.filter(user=user).first()


def upcoming_shifts(*, volunteer: Volunteer, limit: int = 10) -> QuerySet[Shift]:
    return (
        Shift.objects.filter(volunteer=volunteer, ends_at__gt=timezone.now())
        .select_related("department")
        .order_by("starts_at")[:limit]
    )
