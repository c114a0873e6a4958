"""Roster pages whose query count must not grow with the number of shifts or volunteers."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from volunteers.roster import services as roster_services

from ..factories import IntakeFactory, OfferFactory
from .conftest import make_volunteer, shift


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _shifts(volunteer, department, count: int, first_day: int = 1) -> None:
    start = timezone.now().replace(microsecond=0)
    for n in range(count):
        shift(volunteer, department, start + timedelta(days=first_day + n), hours=6)


def _series(volunteer, department, weekday: int) -> None:
    roster_services.shift_series_create(
        volunteer=volunteer,
        department=department,
        weekday=weekday,
        start_time=time(7),
        duration=timedelta(hours=4),
        starts_on=timezone.localdate() + timedelta(days=1),
        ends_on=None,
        created_by=volunteer.user,
    )


def test_home_query_count_does_not_grow_with_shifts_offers_or_assignments(
    volunteer_client, volunteer, department, officer
):
    _shifts(volunteer, department, 1)
    OfferFactory(volunteer=volunteer, intake=IntakeFactory(department=department, logged_by=officer))
    url = reverse("volunteers:home")
    with_one = _queries(volunteer_client, url)

    _shifts(volunteer, department, 40, first_day=2)
    for _ in range(4):
        OfferFactory(volunteer=volunteer, intake=IntakeFactory(department=department, logged_by=officer))
        intake = IntakeFactory(
            department=department, logged_by=officer, status="companion_assigned", companion_needed_at=None
        )
        OfferFactory(volunteer=volunteer, intake=intake, status="accepted", responded_at=timezone.now())
    assert _queries(volunteer_client, url) == with_one


def test_my_shifts_query_count_does_not_grow_with_shifts_or_weekly_shifts(
    volunteer_client, volunteer, department
):
    _shifts(volunteer, department, 1, first_day=30)
    _series(volunteer, department, 0)
    url = reverse("volunteers:my_shifts")
    with_one = _queries(volunteer_client, url)

    _shifts(volunteer, department, 80, first_day=60)
    for weekday in range(1, 7):
        _series(volunteer, department, weekday)
    assert _queries(volunteer_client, url) == with_one


def test_coverage_query_count_does_not_grow_with_shifts_or_volunteers(
    coordinator_client, volunteer, department
):
    _shifts(volunteer, department, 1)
    url = reverse("volunteers:coverage")
    with_one = _queries(coordinator_client, url)

    _shifts(volunteer, department, 12, first_day=2)
    for n in range(20):
        colleague = make_volunteer(department, f"colleague{n}", call_any_time=n % 2 == 0)
        _shifts(colleague, department, 3)
    assert _queries(coordinator_client, url) == with_one


def test_roster_pages_query_count_does_not_grow_with_volunteers(coordinator_client, volunteer, department):
    _shifts(volunteer, department, 1)
    roster_url = reverse("volunteers:roster")
    schedule_url = reverse("volunteers:roster_volunteer", kwargs={"volunteer_id": volunteer.pk})
    assign_url = reverse("volunteers:assign")
    with_one = [_queries(coordinator_client, url) for url in (roster_url, schedule_url, assign_url)]

    _shifts(volunteer, department, 30, first_day=2)
    _series(volunteer, department, 3)
    for n in range(20):
        _shifts(make_volunteer(department, f"colleague{n}"), department, 2)
    assert [_queries(coordinator_client, url) for url in (roster_url, schedule_url, assign_url)] == with_one


def test_calendar_feed_is_one_query_for_the_shifts(client, volunteer, department):
    _shifts(volunteer, department, 1)
    url = reverse("volunteers:calendar_feed", kwargs={"token": volunteer.calendar_token})
    with_one = _queries(client, url)
    _shifts(volunteer, department, 50, first_day=2)
    assert _queries(client, url) == with_one == 2  # the volunteer, then the shifts
