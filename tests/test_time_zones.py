"""Times are shown on the department's clock, whatever the server's (settings.TIME_ZONE is
America/New_York; this department keeps Pacific time, three hours behind)."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from volunteers.paging.services import companion_mark_arrived, offer_accept, paging_advance

from .conftest import client_for
from .factories import DepartmentFactory, IntakeFactory, PersonFactory, user_with_role
from .paging.conftest import volunteer_on_call

pytestmark = pytest.mark.django_db

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
SERVER = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def clock(moment, zone) -> str:
    return timezone.localtime(moment, zone).strftime("%-I:%M %p")


@pytest.fixture
def pacific():
    department = DepartmentFactory(name="Santa Cruz Police Department", time_zone="America/Los_Angeles")
    officer = user_with_role(Role.DESK_OFFICER, department, username="sc-officer")
    coordinator = user_with_role(Role.COORDINATOR, department, username="sc-coordinator")
    arrived = (timezone.now() - timedelta(minutes=40)).replace(second=0, microsecond=0)
    intake = IntakeFactory(
        department=department,
        person=PersonFactory(department=department, first_name="Wren"),
        logged_by=officer,
        arrived_at=arrived,
        companion_needed_at=arrived,
    )
    return department, officer, coordinator, intake


def test_the_two_clocks_differ():
    moment = timezone.now()
    assert clock(moment, PACIFIC) != clock(moment, SERVER)


def test_the_desk_and_the_intake_page_show_the_departments_clock(pacific):
    _, officer, _, intake = pacific
    client = client_for(officer)
    pacific_time, server_time = clock(intake.arrived_at, PACIFIC), clock(intake.arrived_at, SERVER)

    for url in (reverse("intake:desk"), reverse("intake:detail", args=[intake.pk])):
        text = client.get(url).content.decode()
        assert pacific_time in text, url
        assert server_time not in text, url


def test_the_board_and_the_paging_panel_show_the_departments_clock(pacific):
    department, _, coordinator, intake = pacific
    volunteer = volunteer_on_call(department, name="sc-angel", call_any_time=True)
    (offer,) = paging_advance(intake_id=intake.pk, now=intake.arrived_at + timedelta(minutes=1))
    accepted = offer_accept(offer_id=offer.pk, volunteer=volunteer)
    client = client_for(coordinator)

    board = client.get(reverse("dashboard:board")).content.decode()
    panel = client.get(reverse("volunteers:paging_panel", args=[intake.pk])).content.decode()

    expected = accepted.expected_arrival_at
    assert clock(expected, PACIFIC) in board
    assert clock(expected, SERVER) not in board
    assert clock(offer.created_at, PACIFIC) in panel
    assert clock(offer.created_at, SERVER) not in panel


def test_the_companions_page_shows_the_departments_clock(pacific):
    department, _, _, intake = pacific
    volunteer = volunteer_on_call(department, name="sc-angel", call_any_time=True)
    (offer,) = paging_advance(intake_id=intake.pk, now=intake.arrived_at + timedelta(minutes=1))
    offer_accept(offer_id=offer.pk, volunteer=volunteer)
    arrived = companion_mark_arrived(offer_id=offer.pk, volunteer=volunteer)

    text = client_for(volunteer.user).get(reverse("volunteers:assignment", args=[offer.pk])).content.decode()

    assert f"You arrived at {clock(arrived.arrived_at, PACIFIC)}" in text
    assert clock(arrived.arrived_at, SERVER) not in text
