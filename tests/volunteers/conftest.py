"""Roster fixtures: the department's volunteer (from tests/conftest.py), more volunteers, and
moments around the 2026 daylight-saving changes in America/New_York."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Department, Role
from volunteers.models import Shift, Volunteer

from ..conftest import client_for
from ..factories import ShiftFactory, VolunteerFactory, user_with_role

# Clocks go back on Sunday 1 November 2026 (2 AM EDT → 1 AM EST) and forward on Sunday
# 14 March 2027 (2 AM EST → 3 AM EDT).
BEFORE_FALL_BACK = datetime(2026, 10, 20, 16, 0, tzinfo=UTC)
BEFORE_SPRING_FORWARD = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
def volunteer(volunteer_user) -> Volunteer:
    return volunteer_user.volunteer


@pytest.fixture
def volunteer_client(volunteer_user):
    return client_for(volunteer_user)


def make_volunteer(department: Department, username: str, **fields) -> Volunteer:
    """A vetted volunteer of ``department`` with a login."""
    user = user_with_role(Role.VOLUNTEER, department, username=username)
    volunteer = VolunteerFactory(user=user, **fields)
    volunteer.departments.add(department)
    return volunteer


def shift(volunteer: Volunteer, department: Department, starts_at: datetime, hours: float = 8) -> Shift:
    """A shift of ``hours`` real hours (UTC arithmetic: across a clock change too)."""
    starts_at = starts_at.astimezone(UTC)
    return ShiftFactory(
        volunteer=volunteer,
        department=department,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
    )
