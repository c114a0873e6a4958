"""Every program figure against the hand-built March 2025 data set (see conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from intake.models import IntakeEvent
from referrals.reports import figures as program
from referrals.reports.figures import Period, program_figures

from ..factories import FacilityFactory
from . import builders
from .conftest import MARCH, NEW_YORK, local


@pytest.fixture
def figures(march, department):
    return program_figures(departments=[department], period=MARCH)


def test_walk_ins_people_and_repeat_visits(figures):
    # A–F; the duplicate, January, April and the other department's walk-ins are not counted.
    assert figures.walk_ins == 6
    assert figures.people == 5
    # A (Ann came in January) and E (Dee's second visit).
    assert figures.repeat_visits == 2
    assert figures.first_time_visits == 4


def test_share_placed_and_admitted(figures):
    assert figures.placed == 3
    assert figures.admitted == 2
    assert figures.share_placed == pytest.approx(0.5)
    assert figures.share_placed_percent == pytest.approx(50.0)
    assert figures.share_admitted_percent == pytest.approx(100 * 2 / 6)


@pytest.mark.parametrize(
    ("key", "cases", "median", "p90"),
    [
        # 2, 4, 6, 8, 10: p90 sits 0.6 of the way from 8 to 10.
        ("companion_accepted", 5, 6.0, 9.2),
        # 12, 24, 36, 48: p90 at position 2.7 → 36 + 0.7 × 12.
        ("companion_arrived", 4, 30.0, 44.4),
        # 60, 120, 180: p90 at position 1.8 → 120 + 0.8 × 60.
        ("placed", 3, 120.0, 168.0),
        # 180, 240: p90 at position 0.9 → 180 + 0.9 × 60.
        ("admitted", 2, 210.0, 234.0),
    ],
)
def test_median_and_90th_percentile_of_each_step(figures, key, cases, median, p90):
    duration = next(d for d in figures.durations if d.key == key)

    assert duration.cases == cases
    assert duration.median == pytest.approx(median)
    assert duration.p90 == pytest.approx(p90)


def test_placements_by_level_of_care_and_facility(figures):
    assert [(value, n) for value, _, n in figures.by_level_of_care] == [("3.7-WM", 2), ("3.5", 1)]
    assert figures.by_level_of_care[0][1].startswith("3.7-WM — Medically monitored")
    assert figures.by_facility == [("Harbor House", 2), ("Cape Recovery", 1)]


def test_no_bed_reasons_count_every_call_without_a_bed(figures):
    assert {value: n for value, _, n in figures.no_bed_reasons} == {
        "no_bed": 2,
        "insurance_not_accepted": 1,
        "waitlist": 1,
        "person_declined": 1,
        "level_of_care_mismatch": 0,
        "no_answer": 0,
    }
    assert figures.no_bed_reasons[0][0] == "no_bed"


def test_volunteer_response(figures):
    response = figures.volunteer_response

    assert (response.offers, response.accepted, response.declined) == (9, 5, 1)
    assert (response.expired, response.withdrawn, response.pending) == (2, 1, 0)
    assert response.accept_percent == pytest.approx(100 * 5 / 9)
    # Sent → accepted: 2, 3, 6, 8, 5 minutes.
    assert response.median_minutes_to_accept == pytest.approx(5.0)
    assert response.p90_minutes_to_accept == pytest.approx(7.2)


def test_weekly_and_monthly_series(figures):
    assert [(p.starts_on, p.walk_ins, p.placed) for p in figures.weekly] == [
        (date(2025, 2, 24), 0, 0),
        (date(2025, 3, 3), 4, 3),
        (date(2025, 3, 10), 0, 0),
        (date(2025, 3, 17), 2, 0),
        (date(2025, 3, 24), 0, 0),
        (date(2025, 3, 31), 0, 0),
    ]
    assert [(p.starts_on, p.walk_ins, p.placed) for p in figures.monthly] == [(date(2025, 3, 1), 6, 3)]


def test_several_departments_add_up(march, department, other_department):
    both = program_figures(departments=[department, other_department], period=MARCH)

    assert (both.walk_ins, both.people, both.placed) == (7, 6, 4)
    assert both.by_facility == [("Cape Recovery", 2), ("Harbor House", 2)]
    assert [gaps.department for gaps in both.roster_gaps] == [department, other_department]


def test_the_period_is_read_on_the_department_clock(department, officer):
    """23:30 on the last day of February in New York is already March in UTC."""
    late = builders.walk_in(
        person=builders.person(department, "Late"), officer=officer, arrived_at=local(2, 28, 23, 30)
    )
    assert late.arrived_at.astimezone(NEW_YORK).month == 2

    march = program_figures(departments=[department], period=MARCH)
    february = program_figures(
        departments=[department], period=Period(date(2025, 2, 1), date(2025, 2, 28), NEW_YORK)
    )

    assert march.walk_ins == 0
    assert february.walk_ins == 1
    assert [p.walk_ins for p in february.monthly] == [1]
    assert [(p.starts_on, p.walk_ins) for p in february.weekly][-1] == (date(2025, 2, 24), 1)


def test_an_empty_period_has_no_medians(department):
    figures = program_figures(departments=[department], period=MARCH)

    assert (figures.walk_ins, figures.people, figures.placed) == (0, 0, 0)
    assert figures.share_placed is None
    assert all(d.cases == 0 and d.median is None and d.p90 is None for d in figures.durations)
    assert figures.volunteer_response.median_minutes_to_accept is None
    assert figures.by_facility == []
    assert len(figures.weekly) == 6


def test_facilities_beyond_the_top_ten_are_grouped(department, officer):
    facilities = [FacilityFactory(name=f"Facility {n:02d}") for n in range(12)]
    for n, facility in enumerate(facilities):
        # Facility 00 gets 12 placements, 01 gets 11, … 11 gets 1: 78 in all.
        for k in range(12 - n):
            builders.walk_in(
                person=builders.person(department, f"P{n}-{k}"),
                officer=officer,
                arrived_at=local(3, 10 + k % 10, 9, n),
                accepted_after=1,
                arrived_after=2,
                placed_after=3,
                facility=facility,
            )

    figures = program_figures(departments=[department], period=MARCH)

    assert figures.placed == 78
    assert figures.by_facility[:2] == [("Facility 00", 12), ("Facility 01", 11)]
    assert len(figures.by_facility) == 11
    # Facilities 10 and 11: 2 + 1.
    assert figures.by_facility[-1] == ("All other facilities", 3)


def test_a_companion_who_dropped_out_still_counts_as_the_first_acceptance(department, officer):
    """Accepted after 3 minutes, released at 10, another accepted at 15: the first counts."""
    intake = builders.walk_in(
        person=builders.person(department, "Rex"), officer=officer, arrived_at=local(3, 3)
    )
    for minutes, before, after in (
        (3, "waiting_for_companion", "companion_assigned"),
        (10, "companion_assigned", "waiting_for_companion"),
        (15, "waiting_for_companion", "companion_assigned"),
        (40, "companion_assigned", "companion_arrived"),
    ):
        IntakeEvent.objects.create(
            intake=intake,
            from_status=before,
            to_status=after,
            at=intake.arrived_at + timedelta(minutes=minutes),
        )

    durations = {d.key: d for d in program_figures(departments=[department], period=MARCH).durations}

    assert (durations["companion_accepted"].cases, durations["companion_accepted"].median) == (1, 3.0)
    assert durations["companion_arrived"].median == 40.0


def test_a_walk_in_recorded_through_the_services_counts_in_every_figure(
    department, other_department, officer, coordinator
):
    """The figures read a placement, a call and an offer under their own department as well as
    their walk-in's (referrals.reports.figures._of_walk_ins_q): the services must record each under
    the walk-in's department, or it would silently drop out of the figures."""
    from referrals.placement.services import (
        placement_admission_confirm,
        placement_attempt_record,
        placement_record,
    )
    from volunteers.paging.services import companion_mark_arrived, offer_accept, paging_advance, walk_in_log

    from ..paging.conftest import volunteer_on_call

    volunteer = volunteer_on_call(department)
    harbor = FacilityFactory(name="Harbor House")
    intake = walk_in_log(
        department=department,
        officer=officer,
        person_data={"first_name": "Wren", "last_name": "", "date_of_birth": None, "approximate_age": 30},
        intake_data={"companion_language": "en", "warrant_check": "none"},
    )
    (offer,) = paging_advance(intake_id=intake.pk)
    offer_accept(offer_id=offer.pk, volunteer=volunteer)
    companion_mark_arrived(offer_id=offer.pk, volunteer=volunteer)
    placement_attempt_record(intake=intake, actor=coordinator, facility=harbor, outcome="no_bed")
    placement = placement_record(intake=intake, actor=coordinator, facility=harbor, level_of_care="3.5")
    placement_admission_confirm(placement=placement, actor=coordinator)

    for departments in ([department], [department, other_department]):
        figures = program_figures(
            departments=departments, period=program.default_period(departments=departments)
        )

        assert (figures.walk_ins, figures.people, figures.placed, figures.admitted) == (1, 1, 1, 1)
        assert [d.cases for d in figures.durations] == [1, 1, 1, 1]
        assert [(value, n) for value, _, n in figures.by_level_of_care] == [("3.5", 1)]
        assert figures.by_facility == [("Harbor House", 1)]
        assert {value: n for value, _, n in figures.no_bed_reasons}["no_bed"] == 1
        assert (figures.volunteer_response.offers, figures.volunteer_response.accepted) == (1, 1)
        assert sum(point.placed for point in figures.monthly) == 1
        assert sum(point.placed for point in figures.weekly) == 1
