"""The companion's home page: open requests, the assignment, upcoming shifts, hours this month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from volunteers.paging import selectors as paging_selectors
from volunteers.paging.tokens import offer_link

from ..conftest import client_for
from ..factories import IntakeFactory, OfferFactory, PersonFactory
from .conftest import shift

NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # Monday noon in Gloucester


def _at(department, month, day, hour):
    return datetime(2026, month, day, hour, tzinfo=department.tzinfo)


def _assignment_url_exists() -> bool:
    try:
        reverse("volunteers:assignment", kwargs={"offer_id": 1})
    except NoReverseMatch:
        return False
    return True


@pytest.fixture
def pending_offer(volunteer, department, officer):
    # A name that cannot occur in the page's own words (a random "Will" or "Hope" could).
    person = PersonFactory(department=department, first_name="Zephyrine")
    intake = IntakeFactory(department=department, person=person, logged_by=officer)
    return OfferFactory(volunteer=volunteer, intake=intake)


@pytest.fixture
def assignment(volunteer, department, officer):
    # A name that cannot be the volunteer's own (both come from the same fake first names).
    person = PersonFactory(department=department, first_name="Zephyrine")
    intake = IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        status="companion_arrived",
        companion_needed_at=None,
    )
    return OfferFactory(volunteer=volunteer, intake=intake, status="accepted", responded_at=timezone.now())


def test_home_shows_an_open_request_with_its_link(volunteer_client, pending_offer):
    # The link is signed with the time it is made: the page's and the test's must be the same second.
    with time_machine.travel(timezone.now(), tick=False):
        response = volunteer_client.get(reverse("volunteers:home"))
        expected_link = offer_link(pending_offer)

    assert response.status_code == 200
    assert "Someone needs a companion at Gloucester Police Department" in response.text
    assert expected_link in response.text
    assert pending_offer.intake.person.first_name not in response.text


@pytest.mark.parametrize(
    "change",
    [
        {"status": "declined"},
        {"status": "withdrawn"},
        {"status": "expired"},
        {"expires_at": "past"},
        {"intake_status": "companion_assigned"},
    ],
)
def test_requests_that_cannot_be_answered_are_not_shown(volunteer_client, pending_offer, change):
    if change.get("status"):
        pending_offer.status, pending_offer.responded_at = change["status"], timezone.now()
    if change.get("expires_at"):
        pending_offer.expires_at = timezone.now() - timedelta(minutes=1)
    pending_offer.save()
    if change.get("intake_status"):
        pending_offer.intake.status = change["intake_status"]
        pending_offer.intake.save()

    response = volunteer_client.get(reverse("volunteers:home"))
    assert "No one needs a companion right now" in response.text
    assert "Open the request" not in response.text


def test_home_shows_the_active_assignment(volunteer_client, assignment):
    response = volunteer_client.get(reverse("volunteers:home"))

    assert "You are a companion now" in response.text
    assert "At Gloucester Police Department — companion arrived." in response.text
    if _assignment_url_exists():
        assert reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk}) in response.text
    assert assignment.intake.person.first_name not in response.text


def test_a_finished_assignment_is_not_shown(volunteer_client, assignment):
    assignment.intake.status = "placed"
    assignment.intake.save()
    assert "You are a companion now" not in volunteer_client.get(reverse("volunteers:home")).text


def test_unvetted_volunteer_is_told_kindly_what_is_missing_and_sees_no_requests(
    volunteer_client, volunteer, pending_offer, assignment
):
    volunteer.confidentiality_agreement_signed_on = None
    volunteer.background_check_on = timezone.localdate() - timedelta(days=365 * 3)
    volunteer.save()

    response = volunteer_client.get(reverse("volunteers:home"))

    assert "Almost there" in response.text
    assert "The confidentiality agreement has not been signed yet." in response.text
    assert "is more than two years old and needs renewing" in response.text
    assert "Open the request" not in response.text
    assert offer_link(pending_offer) not in response.text
    assert "You are a companion now" not in response.text
    assert response.context["offers"] == [] and response.context["assignments"] == []


def test_paused_volunteer_is_told_the_profile_is_paused(volunteer_client, volunteer, pending_offer):
    volunteer.is_active = False
    volunteer.save()
    response = volunteer_client.get(reverse("volunteers:home"))
    assert "Your volunteer profile is paused." in response.text
    assert "Open the request" not in response.text


def test_home_lists_the_next_shifts_and_links_to_my_shifts(volunteer_client, volunteer, department):
    shifts = [shift(volunteer, department, timezone.now() + timedelta(days=n)) for n in range(1, 8)]

    response = volunteer_client.get(reverse("volunteers:home"))

    assert response.context["shifts"] == shifts[:5]
    assert reverse("volunteers:my_shifts") in response.text


def test_hours_this_month_count_shifts_in_local_time(volunteer, department):
    for start, hours in [
        (_at(department, 5, 31, 20), 8),  # 4 h of it in June
        (_at(department, 6, 10, 8), 8),
        (_at(department, 6, 15, 10), 8),  # in progress at noon: 2 h done, 6 h to go
        (_at(department, 6, 20, 8), 8),
        (_at(department, 6, 30, 20), 8),  # 4 h of it in June
        (_at(department, 7, 5, 8), 8),
    ]:
        shift(volunteer, department, start, hours)

    hours = paging_selectors.hours_this_month(volunteer=volunteer, tz=department.tzinfo, now=NOW)

    assert hours.on_call == timedelta(hours=4 + 8 + 2)
    assert hours.scheduled == timedelta(hours=6 + 8 + 4)


def test_hours_this_month_count_the_requests_accepted(volunteer, department, officer):
    for responded_at in (NOW - timedelta(days=3), NOW - timedelta(days=20)):
        OfferFactory(
            volunteer=volunteer,
            intake=IntakeFactory(department=department, logged_by=officer, status="placed"),
            status="accepted",
            responded_at=responded_at,
        )
    assert (
        paging_selectors.hours_this_month(volunteer=volunteer, tz=department.tzinfo, now=NOW).assignments == 1
    )


def test_home_shows_hours_this_month(volunteer_user, volunteer, department):
    shift(volunteer, department, _at(department, 6, 10, 8), 7.5)
    with time_machine.travel(NOW, tick=False):
        response = client_for(volunteer_user).get(reverse("volunteers:home"))
    assert "June so far" in response.text
    assert "7.5 h" in response.text


def test_a_volunteer_without_a_profile_sees_a_friendly_page(department):
    from ..factories import user_with_role

    response = client_for(user_with_role("volunteer", department, username="new")).get(
        reverse("volunteers:home")
    )
    assert "Your volunteer profile has not been set up yet" in response.text
