"""The treatment directory's reads: the facility search, one facility, and what a walk-in's
record prefills in the search.

The directory is shared by every department: any coordinator may read any facility. Who may
search *for an intake* is decided by ``intake.selectors.intake_get_for_user`` (the intake's
department), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from intake.choices import Gender, Insurance, Pregnancy
from intake.models import Intake

from .models import Facility, GenderServed, Payment


def facility_for_prefill(*, value: str) -> Facility | None:
    """The active facility a query string names (``?facility=<id>``), or None for anything else."""
    if not value.isdigit() or len(value) > 18:
        return None
    return Facility.objects.filter(pk=int(value), is_active=True).first()


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
