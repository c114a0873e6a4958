"""Walk-ins at each step of the placement, and the people who record them (placement tests)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from intake.models import Intake
from referrals.models import Facility, Placement
from referrals.placement.services import placement_admission_confirm, placement_record
from volunteers.models import Offer

from ..factories import FacilityFactory, IntakeFactory, OfferFactory


def companion_arrived(department, officer: User, companion: User, **fields) -> Intake:
    """A walk-in logged by ``officer`` whose companion (``companion``) has accepted and arrived."""
    intake = IntakeFactory(
        department=department,
        logged_by=officer,
        status=Intake.Status.COMPANION_ARRIVED,
        companion_needed_at=None,
        **fields,
    )
    now = timezone.now()
    OfferFactory(
        intake=intake,
        volunteer=companion.volunteer,
        status=Offer.Status.ACCEPTED,
        responded_at=now,
        arrived_at=now,
    )
    return intake


def placed(intake: Intake, actor: User, facility: Facility | None = None) -> Placement:
    return placement_record(
        intake=intake, actor=actor, facility=facility or FacilityFactory(), level_of_care="3.7-WM"
    )


def admitted(intake: Intake, actor: User, at: datetime | None = None) -> Placement:
    return placement_admission_confirm(placement=placed(intake, actor), actor=actor, admitted_at=at)


def local_input(value: datetime, department) -> str:
    """A datetime as a phone's datetime-local field posts it, in the department's time zone."""
    return timezone.localtime(value, department.tzinfo).strftime("%Y-%m-%dT%H:%M")
