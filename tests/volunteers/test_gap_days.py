"""The figures' roster gaps: the same hours as the coverage page, in one query for any number of
departments."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from volunteers.roster.selectors import department_coverage, departments_gap_days

from ..factories import DepartmentFactory, ShiftFactory, VolunteerFactory


def _volunteer(department, **kwargs):
    volunteer = VolunteerFactory(**kwargs)
    volunteer.departments.add(department)
    return volunteer


def test_gap_hours_agree_with_the_coverage_page(department, other_department):
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    vetted = _volunteer(department)
    lapsed = _volunteer(department, background_check_on=timezone.localdate() - timedelta(days=800))
    untrained = _volunteer(department, training_completed_on=None)
    # Overlapping, back-to-back (no gap between them), a half hour, and shifts that do not count.
    ShiftFactory(volunteer=vetted, department=department, starts_at=start, ends_at=start + timedelta(hours=5))
    other = _volunteer(department)
    ShiftFactory(volunteer=other, department=department, starts_at=start + timedelta(hours=3),
                 ends_at=start + timedelta(hours=9))  # fmt: skip
    ShiftFactory(volunteer=vetted, department=department, starts_at=start + timedelta(hours=9),
                 ends_at=start + timedelta(hours=12, minutes=30))  # fmt: skip
    ShiftFactory(volunteer=lapsed, department=department, starts_at=start + timedelta(days=1),
                 ends_at=start + timedelta(days=1, hours=8))  # fmt: skip
    ShiftFactory(volunteer=untrained, department=department, starts_at=start + timedelta(days=2),
                 ends_at=start + timedelta(days=2, hours=8))  # fmt: skip
    ShiftFactory(volunteer=_volunteer(other_department), department=other_department,
                 starts_at=start + timedelta(days=1), ends_at=start + timedelta(days=3))  # fmt: skip

    gaps = departments_gap_days(departments=[department, other_department], days=7, now=now)
    for dept in (department, other_department):
        coverage = department_coverage(
            department=dept, start=timezone.localdate(now, dept.tzinfo), days=7, now=now
        )
        assert [(day.day, day.gap_hours) for day in coverage.days] == [
            (day.day, day.gap_hours) for day in gaps[dept.pk]
        ]
    assert sum(day.gap_hours for day in gaps[department.pk]) == 7 * 24 - 12


def test_one_query_whatever_the_number_of_departments(department):
    departments = [department, *(DepartmentFactory() for _ in range(5))]
    for dept in departments:
        ShiftFactory(volunteer=_volunteer(dept), department=dept)
    with CaptureQueriesContext(connection) as one:
        departments_gap_days(departments=departments[:1], days=7)
    with CaptureQueriesContext(connection) as six:
        departments_gap_days(departments=departments, days=7)
    assert len(one) == len(six) == 1
