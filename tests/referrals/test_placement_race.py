"""Two people recording the same placement at the same instant (real threads, real commits)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from intake.models import Intake
from referrals.models import FollowUp, Placement
from referrals.placement.services import placement_admission_confirm, placement_record

from ..factories import FacilityFactory, IntakeFactory, user_with_role
from ..paging.conftest import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def searching(department, officer):
    return IntakeFactory(
        department=department,
        logged_by=officer,
        arrived_at=timezone.now() - timedelta(hours=2),
        status=Intake.Status.SEARCHING_PLACEMENT,
        companion_needed_at=None,
    )


def test_two_placements_at_once_one_is_recorded(searching, coordinator, department):
    colleague = user_with_role(Role.COORDINATOR, department, username="colleague")
    facilities = [FacilityFactory(), FacilityFactory()]

    results = run_at_once(
        [
            partial(placement_record, intake=searching, actor=actor, facility=facility, level_of_care="3.5")
            for actor, facility in zip([coordinator, colleague], facilities, strict=True)
        ]
    )

    assert sum(isinstance(r, Placement) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert Placement.objects.filter(intake=searching).count() == 1
    assert searching.events.filter(to_status="placed").count() == 1


def test_confirming_the_admission_twice_at_once_schedules_the_follow_ups_once(searching, coordinator):
    placement = placement_record(
        intake=searching, actor=coordinator, facility=FacilityFactory(), level_of_care="3.5"
    )

    results = run_at_once([partial(placement_admission_confirm, placement=placement, actor=coordinator)] * 4)

    assert all(isinstance(r, Placement) for r in results), results
    assert len({r.admitted_at for r in results}) == 1
    assert FollowUp.objects.filter(intake=searching).count() == 4
