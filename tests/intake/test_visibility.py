"""Who sees which walk-in: the desk officer's 24-hour window, coordinators' departments, no one else."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from tests.conftest import client_for
from tests.factories import IntakeFactory

LIST = reverse("intake:list")
DESK = reverse("intake:desk")


def _detail(intake: Intake) -> str:
    return reverse("intake:detail", args=[intake.pk])


@pytest.fixture
def wren(officer, department):
    """A walk-in the officer logged just now."""
    return IntakeFactory(
        department=department, logged_by=officer, person__first_name="Wren", person__last_name="Okafor"
    )


@pytest.fixture
def rockport_walk_in(other_officer, other_department):
    return IntakeFactory(
        department=other_department,
        logged_by=other_officer,
        person__first_name="Anouk",
        person__last_name="Bexley",
    )


def test_officer_sees_their_walk_in_until_24_hours_have_passed(officer, department):
    logged_at = timezone.now()
    with time_machine.travel(logged_at, tick=False):
        intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Wren")

    with time_machine.travel(logged_at + timedelta(hours=23, minutes=55), tick=False):
        client = client_for(officer)
        page = client.get(_detail(intake))
        desk = client.get(DESK)
    assert page.status_code == 200
    assert "Wren" in page.text
    assert "Wren" in desk.text

    with time_machine.travel(logged_at + timedelta(hours=24, minutes=5), tick=False):
        client = client_for(officer)
        page = client.get(_detail(intake))
        status = client.get(_detail(intake), headers={"HX-Request": "true"})
        edit = client.get(reverse("intake:edit", args=[intake.pk]))
        consent = client.get(reverse("intake:consent", args=[intake.pk]))
        close = client.post(reverse("intake:close", args=[intake.pk]), {"reason": "duplicate"})
        desk = client.get(DESK)
    assert (page.status_code, status.status_code, edit.status_code, consent.status_code) == (
        404,
        404,
        404,
        404,
    )
    assert close.status_code == 404
    assert "Wren" not in page.text
    assert desk.status_code == 200
    assert "Wren" not in desk.text
    intake.refresh_from_db()
    assert intake.status == Intake.Status.WAITING_FOR_COMPANION


def test_coordinator_still_sees_the_walk_in_after_the_officers_window(coordinator, officer, department):
    logged_at = timezone.now()
    with time_machine.travel(logged_at, tick=False):
        intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Wren")

    with time_machine.travel(logged_at + timedelta(days=3), tick=False):
        response = client_for(coordinator).get(_detail(intake))

    assert response.status_code == 200
    assert "Wren" in response.text


def test_second_officer_cannot_open_first_officers_walk_in(second_officer, wren):
    client = client_for(second_officer)

    page = client.get(_detail(wren))
    edit = client.get(reverse("intake:edit", args=[wren.pk]))
    desk = client.get(DESK)

    assert page.status_code == 404
    assert edit.status_code == 404
    assert "Wren" not in page.text
    assert desk.status_code == 200
    assert "Wren" not in desk.text
    assert "No walk-ins logged by you in the last 24 hours." in desk.text


def test_officer_of_another_department_cannot_open_the_walk_in(other_officer, wren):
    response = client_for(other_officer).get(_detail(wren))

    assert response.status_code == 404


def test_coordinator_sees_every_walk_in_of_their_department(
    coordinator_client, wren, second_officer, department
):
    IntakeFactory(department=department, logged_by=second_officer, person__first_name="Sasha")

    listing = coordinator_client.get(LIST)
    page = coordinator_client.get(_detail(wren))

    assert listing.status_code == 200
    assert "Wren O." in listing.text
    assert "Sasha" in listing.text
    assert page.status_code == 200
    assert "Wren Okafor" in page.text


def test_coordinator_cannot_see_another_departments_walk_in(coordinator_client, wren, rockport_walk_in):
    listing = coordinator_client.get(LIST + "?status=")
    page = coordinator_client.get(_detail(rockport_walk_in))

    assert "Wren O." in listing.text
    assert "Anouk" not in listing.text
    assert "Rockport Police Department" not in listing.text
    assert page.status_code == 404
    assert "Anouk" not in page.text


def test_other_departments_coordinator_sees_only_their_own(other_coordinator, wren, rockport_walk_in):
    client = client_for(other_coordinator)

    listing = client.get(LIST)

    assert "Anouk B." in listing.text
    assert "Wren" not in listing.text
    assert client.get(_detail(wren)).status_code == 404


def test_volunteer_cannot_browse_or_open_walk_ins(volunteer_user, wren):
    client = client_for(volunteer_user)

    listing = client.get(LIST)
    page = client.get(_detail(wren))

    assert listing.status_code == 403
    assert "Wren" not in listing.text
    assert page.status_code == 404
    assert "Wren" not in page.text


@pytest.mark.parametrize("query", ["", "?status=", "?status=closed", "?q=Wren"])
def test_officers_cannot_browse_or_search_walk_ins(officer_client, wren, query):
    response = officer_client.get(LIST + query)

    assert response.status_code == 403
    assert "Wren" not in response.text


@pytest.fixture
def walk_ins_in_every_state(department, officer):
    people = {
        "Noor": {"status": Intake.Status.WAITING_FOR_COMPANION},
        "Idris": {"status": Intake.Status.COMPANION_ARRIVED, "companion_needed_at": None},
        "Ilse": {"status": Intake.Status.PLACED, "companion_needed_at": None},
        "Rune": {
            "status": Intake.Status.CLOSED,
            "close_reason": Intake.CloseReason.DECLINED_TREATMENT,
            "closed_at": timezone.now(),
            "companion_needed_at": None,
        },
    }
    for first_name, fields in people.items():
        IntakeFactory(department=department, logged_by=officer, person__first_name=first_name, **fields)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", {"Noor", "Idris"}),
        ("?status=open", {"Noor", "Idris"}),
        ("?status=", {"Noor", "Idris", "Ilse", "Rune"}),
        ("?status=closed", {"Rune"}),
        ("?status=placed", {"Ilse"}),
        ("?status=companion_arrived", {"Idris"}),
        ("?status=nonsense", {"Noor", "Idris"}),
        ("?status=%00%1b", {"Noor", "Idris"}),
    ],
)
def test_coordinator_filters_walk_ins_by_status(coordinator_client, walk_ins_in_every_state, query, shown):
    response = coordinator_client.get(LIST + query)

    assert response.status_code == 200
    listed = {name for name in ("Noor", "Idris", "Ilse", "Rune") if name in response.text}
    assert listed == shown


def test_status_filter_keeps_the_chosen_option_selected(coordinator_client, walk_ins_in_every_state):
    response = coordinator_client.get(LIST + "?status=closed")

    assert '<option value="closed" selected>' in response.text
    assert "Closed: declined treatment" in response.text
