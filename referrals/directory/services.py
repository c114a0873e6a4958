"""The treatment directory's writes: coordinators keep it up to date (any coordinator, any
facility: the directory is shared by every department). Each service is atomic and keyword-only.

A bed count older than ``CAPACITY_FRESH_FOR`` (24 hours) is stale: ``Facility.capacity_is_stale``
says so, and every page that shows beds shows the badge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User

from .models import FACILITY_FIELDS, MAX_BEDS, Facility

DUPLICATE_FACILITY = "A facility with this name already exists at this address."


# --- writes -----------------------------------------------------------------------------------


def _save_new_or_refuse(facility: Facility) -> None:
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            facility.save()
    except IntegrityError as error:
        # Two coordinators entering the same facility at the same moment: the form's own check
        # passed for both, the unique constraint refuses the second.
        raise ValidationError(DUPLICATE_FACILITY) from error


def facility_create(*, data: dict[str, Any], actor: User, now: datetime | None = None) -> Facility:
    """Add a facility to the shared directory.

    ``data`` holds ``FACILITY_FIELDS`` and may hold ``beds_available``: a count given at creation
    is recorded as counted now by ``actor``. Raises ValidationError for a facility that already
    exists at that address (checked by the database).
    """
    fields = {name: data[name] for name in FACILITY_FIELDS if name in data}
    with transaction.atomic():
        facility = Facility(**fields)
        beds = data.get("beds_available")
        if beds is not None:
            facility.beds_available = beds
            facility.capacity_updated_at = now or timezone.now()
            facility.capacity_updated_by = actor
        facility.full_clean(validate_unique=False, validate_constraints=False)
        _save_new_or_refuse(facility)
    return facility


def facility_update(*, facility: Facility, data: dict[str, Any], actor: User) -> Facility:
    """Change a facility's details (not its bed count: ``facility_capacity_update`` does that).

    Locks the row, so a concurrent bed update is neither lost nor overwritten with the old count.
    Only the fields that changed are written. ``actor`` is who made the change; a facility's
    details record no author (its bed count does).
    """
    with transaction.atomic():
        locked = Facility.objects.select_for_update().get(pk=facility.pk)
        changed = [name for name in FACILITY_FIELDS if name in data and getattr(locked, name) != data[name]]
        for name in changed:
            setattr(locked, name, data[name])
        if changed:
            locked.full_clean(validate_unique=False, validate_constraints=False)
            try:
                with transaction.atomic():
                    locked.save(update_fields=changed)
            except IntegrityError as error:
                raise ValidationError(DUPLICATE_FACILITY) from error
    return locked


def facility_capacity_update(
    *, facility: Facility, beds_available: int, actor: User, now: datetime | None = None
) -> Facility:
    """Record the beds a facility has free now, counted by ``actor``. One UPDATE: the last count
    given wins, and it is stamped with who gave it and when."""
    if not 0 <= beds_available <= MAX_BEDS:
        raise ValidationError(f"Enter a number of beds between 0 and {MAX_BEDS}.")
    now = now or timezone.now()
    with transaction.atomic():
        Facility.objects.filter(pk=facility.pk).update(
            beds_available=beds_available, capacity_updated_at=now, capacity_updated_by=actor
        )
    facility.beds_available = beds_available
    facility.capacity_updated_at = now
    facility.capacity_updated_by = actor
    return facility
