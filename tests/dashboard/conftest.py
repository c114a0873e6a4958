"""The hand-built data set with known answers, in March 2025 (America/New_York).

Walk-ins of March 2025 in `department` (minutes after arriving):

    visit  person  arrived       accepted arrived placed admitted facility, level  end
    A      Ann     Mon Mar 3 10h     2       12     60     180    Harbor, 3.7-WM
    B      Ben     Tue Mar 4 10h     4       24    120     240    Harbor, 3.7-WM
    C      Cal     Wed Mar 5 10h     6       36    180      —     Cape, 3.5
    D      Dee     Thu Mar 6 10h     8       48     —       —                     declined treatment
    E      Dee     Thu Mar 20 10h   10       —      —       —                     left before placement
    F      Eve     Fri Mar 21 10h    —       —      —       —                     medical transfer
    dup    Eve     Fri Mar 21 10h05 100      —      —       —                     duplicate: not counted

Ann also walked in on Jan 15 (so A is a repeat visit, like E); Ben again on Apr 2 (outside the
period). Another department has a walk-in on Mar 4 that must never show.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from referrals.models import LevelOfCare, PlacementAttempt
from referrals.reports.figures import Period
from volunteers.models import Offer

from ..factories import FacilityFactory, VolunteerFactory, user_with_role
from . import builders

NEW_YORK = ZoneInfo("America/New_York")
MARCH = Period(start=date(2025, 3, 1), end=date(2025, 3, 31), time_zone=NEW_YORK)
Outcome = PlacementAttempt.Outcome


def local(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=NEW_YORK)


def volunteer(department, username):
    user = user_with_role(Role.VOLUNTEER, department, username=username)
    record = VolunteerFactory(user=user)
    record.departments.add(department)
    return record


@pytest.fixture
def march(department, other_department, officer, other_officer):
    """The data set above; returns its walk-ins by letter and its facilities."""
    harbor = FacilityFactory(name="Harbor House")
    cape = FacilityFactory(name="Cape Recovery")
    ann, ben, cal, dee, eve = (
        builders.person(department, name) for name in ("Ann", "Ben", "Cal", "Dee", "Eve")
    )
    make = builders.walk_in
    visits = {
        "before": make(
            person=ann, officer=officer, arrived_at=local(1, 15), accepted_after=3, close_reason="ineligible"
        ),
        "A": make(
            person=ann,
            officer=officer,
            arrived_at=local(3, 3),
            accepted_after=2,
            arrived_after=12,
            placed_after=60,
            admitted_after=180,
            facility=harbor,
            level_of_care=LevelOfCare.WM_37,
        ),
        "B": make(
            person=ben,
            officer=officer,
            arrived_at=local(3, 4),
            accepted_after=4,
            arrived_after=24,
            placed_after=120,
            admitted_after=240,
            facility=harbor,
            level_of_care=LevelOfCare.WM_37,
        ),
        "C": make(
            person=cal,
            officer=officer,
            arrived_at=local(3, 5),
            accepted_after=6,
            arrived_after=36,
            placed_after=180,
            facility=cape,
            level_of_care=LevelOfCare.CLINICALLY_MANAGED_HIGH,
        ),
        "D": make(
            person=dee,
            officer=officer,
            arrived_at=local(3, 6),
            accepted_after=8,
            arrived_after=48,
            close_reason="declined_treatment",
        ),
        "E": make(
            person=dee,
            officer=officer,
            arrived_at=local(3, 20),
            accepted_after=10,
            close_reason="left_before_placement",
        ),
        "F": make(person=eve, officer=officer, arrived_at=local(3, 21), close_reason="medical_transfer"),
        "dup": make(
            person=eve,
            officer=officer,
            arrived_at=local(3, 21, 10, 5),
            accepted_after=100,
            close_reason="duplicate",
        ),
        "after": make(
            person=ben,
            officer=officer,
            arrived_at=local(4, 2),
            accepted_after=1,
            arrived_after=2,
            placed_after=3,
            facility=cape,
        ),
    }
    elsewhere = builders.person(other_department, "Zed")
    visits["elsewhere"] = make(
        person=elsewhere,
        officer=other_officer,
        arrived_at=local(3, 4),
        accepted_after=1,
        arrived_after=2,
        placed_after=3,
        facility=cape,
    )

    # Calls to facilities: 2 no bed, 1 insurance, 1 wait list, 1 person declined (and beds).
    attempt = builders.attempt
    attempt(visits["A"], cape, Outcome.NO_BED, officer)
    attempt(visits["A"], harbor, Outcome.BED_OFFERED, officer)
    attempt(visits["B"], cape, Outcome.INSURANCE_NOT_ACCEPTED, officer)
    attempt(visits["B"], cape, Outcome.NO_BED, officer)
    attempt(visits["B"], harbor, Outcome.BED_OFFERED, officer)
    attempt(visits["C"], harbor, Outcome.WAITLIST, officer)
    attempt(visits["C"], cape, Outcome.BED_OFFERED, officer)
    attempt(visits["D"], harbor, Outcome.PERSON_DECLINED, officer)
    attempt(visits["dup"], harbor, Outcome.NO_BED, officer)
    attempt(visits["after"], harbor, Outcome.NO_BED, officer)
    attempt(visits["elsewhere"], harbor, Outcome.NO_BED, officer)

    # Requests to volunteers: accepted after 2, 3, 6, 8, 5 minutes (sent → accepted).
    v1, v2, v3 = (volunteer(department, name) for name in ("angel1", "angel2", "angel3"))
    offer, S = builders.offer, Offer.Status
    offer(visits["A"], v1, S.ACCEPTED, answered_after=2)
    offer(visits["A"], v2, S.DECLINED, answered_after=1)
    offer(visits["B"], v1, S.ACCEPTED, sent_after=1, answered_after=4)
    offer(visits["C"], v2, S.ACCEPTED, answered_after=6)
    offer(visits["C"], v3, S.EXPIRED)
    offer(visits["D"], v3, S.ACCEPTED, answered_after=8)
    offer(visits["D"], v1, S.WITHDRAWN, answered_after=8)
    offer(visits["E"], v2, S.ACCEPTED, sent_after=5, answered_after=10)
    offer(visits["F"], v1, S.EXPIRED)
    offer(visits["dup"], v1, S.ACCEPTED, answered_after=100)
    offer(visits["after"], v1, S.ACCEPTED, answered_after=1)
    return {"visits": visits, "harbor": harbor, "cape": cape}
