"""The treatment directory: reads (the facility search) and writes (coordinators keep it up to date).

The directory is shared by every department: any coordinator may read and maintain any facility.
Who may search *for an intake* is decided by ``intake.selectors.intake_get_for_user`` (the
intake's department), not here.

A bed count older than ``CAPACITY_FRESH_FOR`` (24 hours) is stale: ``Facility.capacity_is_stale``
says so, and every page that shows beds shows the badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from intake.choices import Gender, Insurance, Pregnancy
from intake.models import Intake

from .models import Facility, GenderServed, Payment

# A bed count above this is a typo, not a facility.
MAX_BEDS = 10_000
DUPLICATE_FACILITY = "A facility with this name already exists at this address."

# Every field a coordinator edits on the facility form (capacity has its own quick form).
FACILITY_FIELDS = (
    "name",
    "organization_name",
    "description",
    "street_address",
    "town",
    "state",
    "postal_code",
    "phone",
    "email",
    "website",
    "contact_name",
    "hours",
    "levels_of_care",
    "medications",
    "payment_accepted",
    "gender_served",
    "minimum_age",
    "maximum_age",
    "serves_pregnant_women",
    "beds_maximum",
    "is_active",
)

# The person's insurance on the intake → the payment the facility must accept.
PAYMENT_FOR_INSURANCE = {
    Insurance.MEDICAID: Payment.MEDICAID,
    Insurance.MEDICARE: Payment.MEDICARE,
    Insurance.PRIVATE: Payment.PRIVATE,
    Insurance.NONE: Payment.SELF_PAY,
}
# The person's gender → the facilities that serve them (``GenderServed.ALL`` always does).
GENDER_FOR_PERSON = {Gender.WOMAN: GenderServed.WOMEN, Gender.MAN: GenderServed.MEN}


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityFilters:
    """What a coordinator is looking for. Empty values do not filter."""

    level_of_care: str = ""
    payment: str = ""
    gender: str = ""  # GenderServed.WOMEN or MEN: facilities serving them, or everyone
    medication: str = ""
    beds_only: bool = False
    pregnant: bool = False
    text: str = ""
    include_inactive: bool = False


def facilities_search(*, filters: FacilityFilters) -> QuerySet[Facility]:
    """Facilities matching ``filters``, the freshest bed count first, then by name.

    Each filter is one indexed condition (GIN on the array fields), so the query does not grow
    with the directory. Facilities whose count was never recorded come last.
    """
    facilities = Facility.objects.select_related("capacity_updated_by")
    if not filters.include_inactive:
        facilities = facilities.filter(is_active=True)
    if filters.level_of_care:
        facilities = facilities.filter(levels_of_care__contains=[filters.level_of_care])
    if filters.payment:
        facilities = facilities.filter(payment_accepted__contains=[filters.payment])
    if filters.medication:
        facilities = facilities.filter(medications__contains=[filters.medication])
    if filters.gender in (GenderServed.WOMEN, GenderServed.MEN):
        facilities = facilities.filter(gender_served__in=[filters.gender, GenderServed.ALL])
    if filters.beds_only:
        facilities = facilities.filter(beds_available__gt=0)
    if filters.pregnant:
        facilities = facilities.filter(serves_pregnant_women=True)
    if filters.text:
        facilities = facilities.filter(
            Q(name__icontains=filters.text)
            | Q(organization_name__icontains=filters.text)
            | Q(town__icontains=filters.text)
        )
    return facilities.order_by(F("capacity_updated_at").desc(nulls_last=True), "name", "pk")


def facility_get(*, facility_id: int) -> Facility:
    """Any facility: the directory is shared by every department (404 if there is none)."""
    return get_object_or_404(Facility.objects.select_related("capacity_updated_by"), pk=facility_id)


def search_prefill_for(*, intake: Intake) -> dict[str, Any]:
    """The search filters that follow from what the intake says about the person."""
    person = intake.person
    prefill: dict[str, Any] = {}
    if person.insurance in PAYMENT_FOR_INSURANCE:
        prefill["payment"] = PAYMENT_FOR_INSURANCE[person.insurance]
    if person.gender in GENDER_FOR_PERSON:
        prefill["gender"] = GENDER_FOR_PERSON[person.gender]
    if intake.pregnancy == Pregnancy.YES:
        prefill["pregnant"] = True
    return prefill


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


# US states, DC and territories, by postal code: the facility form offers these, and the HSDS
# import reads either form ("MA" or "Massachusetts").
US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}  # fmt: skip


def us_state_code(value: str) -> str | None:
    """ "MA", "ma" or "Massachusetts" → "MA"; anything else → None."""
    text = " ".join(value.split())
    if text.upper() in US_STATES:
        return text.upper()
    by_name = {name.casefold(): code for code, name in US_STATES.items()}
    return by_name.get(text.casefold())
