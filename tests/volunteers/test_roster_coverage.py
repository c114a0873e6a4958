"""The coordinator's coverage grid: 14 days × 24 local hours, gaps where nobody is on call."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from volunteers.roster import selectors as roster_selectors

from ..conftest import client_for
from ..factories import DepartmentFactory, user_with_role
from .conftest import make_volunteer, shift

DAY = date(2026, 6, 10)


def _at(department, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=department.tzinfo)


def _coverage(department, start=DAY, days=1):
    return roster_selectors.department_coverage(department=department, start=start, days=days)


def _counts(coverage_day) -> list[int]:
    return [cell.fewest for cell in coverage_day.cells]


def test_every_hour_without_a_shift_is_a_gap(department):
    coverage = _coverage(department, days=14)

    assert len(coverage.days) == 14
    assert all(len(day.cells) == 24 for day in coverage.days)
    assert coverage.gap_hours == 14 * 24


def test_counts_the_volunteers_on_call_each_hour(department, volunteer):
    colleague = make_volunteer(department, "colleague")
    shift(volunteer, department, _at(department, DAY, 8), hours=8)  # 8 AM – 4 PM
    shift(colleague, department, _at(department, DAY, 12), hours=8)  # noon – 8 PM

    (day,) = _coverage(department).days

    assert _counts(day) == [0] * 8 + [1] * 4 + [2] * 4 + [1] * 4 + [0] * 4
    assert day.gap_hours == 12
    assert day.cells[13].names == sorted([str(volunteer), str(colleague)])


def test_an_hour_covered_only_in_part_is_a_partial_gap(department, volunteer):
    shift(volunteer, department, _at(department, DAY, 9, 30), hours=2)  # 9:30 – 11:30

    cells = _coverage(department).days[0].cells

    assert cells[9].is_gap and cells[9].is_partial_gap and cells[9].most == 1
    assert not cells[10].is_gap and cells[10].fewest == 1
    assert cells[11].is_partial_gap
    assert cells[12].is_gap and not cells[12].is_partial_gap


def test_back_to_back_shifts_leave_no_gap(department, volunteer):
    colleague = make_volunteer(department, "colleague")
    shift(volunteer, department, _at(department, DAY, 0), hours=12)
    shift(colleague, department, _at(department, DAY, 12), hours=12)

    (day,) = _coverage(department).days
    assert _counts(day) == [1] * 24
    assert day.gap_hours == 0


def test_a_shift_from_the_day_before_counts_until_it_ends(department, volunteer):
    shift(volunteer, department, _at(department, DAY - timedelta(days=1), 22), hours=8)  # until 6 AM

    assert _counts(_coverage(department).days[0])[:7] == [1] * 6 + [0]


def test_other_departments_shifts_do_not_count(department, other_department, volunteer):
    volunteer.departments.add(other_department)
    shift(volunteer, other_department, _at(department, DAY, 8), hours=8)

    assert _coverage(department).gap_hours == 24


@pytest.mark.parametrize(
    "change", [{"training_completed_on": None}, {"is_active": False}, {"background_check_on": None}]
)
def test_shifts_of_volunteers_who_cannot_be_paged_do_not_count(department, volunteer, change):
    shift(volunteer, department, _at(department, DAY, 8), hours=8)
    for name, value in change.items():
        setattr(volunteer, name, value)
    volunteer.save()

    coverage = _coverage(department)
    assert coverage.gap_hours == 24
    assert coverage.uncounted_shifts == 1


def test_call_any_time_volunteers_are_noted_but_not_counted(department, volunteer):
    volunteer.call_any_time = True
    volunteer.save()

    coverage = _coverage(department)
    assert coverage.any_time_volunteers == 1
    assert coverage.gap_hours == 24


def test_the_night_the_clocks_go_forward_has_no_2_am(department, volunteer):
    spring = date(2027, 3, 14)
    shift(volunteer, department, _at(department, spring, 0), hours=23)  # all of that 23-hour day

    (day,) = _coverage(department, start=spring).days
    assert [cell.exists for cell in day.cells].count(False) == 1
    assert not day.cells[2].exists and not day.cells[2].is_gap
    assert day.gap_hours == 0


def test_the_night_the_clocks_go_back_has_a_two_hour_1_am(department, volunteer):
    fall = date(2026, 11, 1)
    (day,) = _coverage(department, start=fall).days
    one_am = day.cells[1]
    assert one_am.ends_at - one_am.starts_at == timedelta(hours=2)
    assert all(cell.exists for cell in day.cells)


def test_coverage_page_shows_gaps_in_red_with_words_not_colour_alone(
    coordinator_client, department, volunteer
):
    today = timezone.localdate(timezone=department.tzinfo)
    shift(volunteer, department, _at(department, today + timedelta(days=1), 8), hours=8)

    response = coordinator_client.get(reverse("volunteers:coverage"))

    assert response.status_code == 200
    html = response.text
    assert "On-call coverage — Gloucester Police Department" in html
    assert 'class="table-danger fw-bold p-0"' in html
    assert ": nobody on call" in html
    assert "nobody on call</span>" in html  # the legend
    assert f"1 on call — {volunteer}" in html
    assert html.count("<tr>") == 1 + 14  # header and 14 days
    assert f"{14 * 24 - 8} hours with nobody on call" in html
    assert reverse("volunteers:assign") + f"?department={department.pk}&amp;day=" in html


def test_coordinator_of_two_departments_chooses_one(department, other_department, volunteer):
    both = user_with_role("coordinator", department, username="both")
    Membership.objects.create(user=both, department=other_department, role="coordinator")
    client = client_for(both)

    response = client.get(reverse("volunteers:coverage"), {"department": other_department.pk})

    assert "On-call coverage — Rockport Police Department" in response.text
    assert f'<option value="{department.pk}"' in response.text


def test_another_departments_coverage_cannot_be_chosen(coordinator_client, department, other_department):
    third = DepartmentFactory(name="Essex Police Department")
    for choice in (other_department.pk, third.pk, "abc", "-1"):
        response = coordinator_client.get(reverse("volunteers:coverage"), {"department": choice})
        assert response.status_code == 200
        assert "On-call coverage — Gloucester Police Department" in response.text


@pytest.mark.parametrize("start", ["2026-13-45", "9999-12-31", "0001-01-01", "yesterday", "2026-06-10\x00"])
def test_a_bad_start_date_shows_the_default_fortnight(coordinator_client, start):
    response = coordinator_client.get(reverse("volunteers:coverage"), {"start": start})
    assert response.status_code == 200
    assert "with nobody on call" in response.text


def test_a_chosen_fortnight_starts_that_day(coordinator_client):
    start = timezone.localdate() + timedelta(days=30)
    response = coordinator_client.get(reverse("volunteers:coverage"), {"start": start.isoformat()})
    assert response.context["coverage"].start == start
    assert start.strftime("%a %b ") + str(start.day) in response.text
