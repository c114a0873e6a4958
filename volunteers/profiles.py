"""Writes to a volunteer's profile: their own preferences, and the coordinator's vetting record."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User

from .models import Volunteer

PREFERENCE_FIELDS = (
    "phone",
    "languages",
    "gender",
    "lived_experience",
    "veteran",
    "channels",
    "quiet_hours_start",
    "quiet_hours_end",
    "home_town",
    "call_any_time",
)
VETTING_FIELDS = (
    "is_active",
    "background_check_on",
    "training_completed_on",
    "confidentiality_agreement_signed_on",
)


def _update(volunteer: Volunteer, fields: tuple[str, ...], data: dict[str, Any]) -> Volunteer:
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        for name in fields:
            setattr(locked, name, data[name])
        locked.full_clean()
        locked.save(update_fields=list(fields))
    return locked


def volunteer_update_preferences(*, volunteer: Volunteer, data: dict[str, Any]) -> Volunteer:
    """How and when the volunteer wants to be paged, and what matching may use about them."""
    return _update(volunteer, PREFERENCE_FIELDS, data)


def volunteer_update_vetting(*, volunteer: Volunteer, coordinator: User, data: dict[str, Any]) -> Volunteer:
    """The coordinator's record of vetting. Unvetted or inactive volunteers are never paged."""
    return _update(volunteer, VETTING_FIELDS, data)
