"""The live board: who waits and for how long, companions on the way, placement searches and
follow-ups due; its htmx refresh; and what it hides from other departments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from intake.models import Intake
from referrals.dashboard import board_for_coordinator
from referrals.models import PlacementAttempt
from volunteers.models import Offer

from ..conftest import client_for
from ..factories import FacilityFactory
from . import builders
from .conftest import volunteer

BOARD = reverse("dashboard:board")
Status = Intake.Status


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def scene(department, other_department, officer, other_officer, now):
    """Three people waiting 5, 12 and 25 minutes; one companion on the way (late) and one who
    has arrived; one search with two calls; follow-ups due yesterday, today, tomorrow, done."""
    make, person = builders.walk_in, builders.person
    waiting = {
        minutes: make(
            person=person(department, name), officer=officer, arrived_at=now - timedelta(minutes=minutes)
        )
        for minutes, name in ((5, "Wendy"), (12, "Walt"), (25, "Wanda"))
    }
    angel = volunteer(department, "angel")
    builders.offer(waiting[25], angel, Offer.Status.PENDING)
    builders.offer(waiting[25], volunteer(department, "angel-b"), Offer.Status.DECLINED, answered_after=3)

    on_the_way = make(
        person=person(department, "Otto"),
        officer=officer,
        arrived_at=now - timedelta(minutes=40),
        accepted_after=5,
    )
    builders.offer(
        on_the_way,
        angel,
        Offer.Status.ACCEPTED,
        answered_after=5,
        expected_arrival_at=now - timedelta(minutes=5),
    )
    arrived = make(
        person=person(department, "Ari"),
        officer=officer,
        arrived_at=now - timedelta(minutes=50),
        accepted_after=5,
        arrived_after=20,
        status=Status.COMPANION_ARRIVED,
    )
    builders.offer(arrived, volunteer(department, "angel-c"), Offer.Status.ACCEPTED, answered_after=5)

    searching = make(
        person=person(department, "Sam"),
        officer=officer,
        arrived_at=now - timedelta(minutes=90),
        accepted_after=5,
        arrived_after=20,
    )
    facility = FacilityFactory()
    builders.attempt(searching, facility, PlacementAttempt.Outcome.NO_BED, officer)
    builders.attempt(searching, facility, PlacementAttempt.Outcome.WAITLIST, officer)

    placed = make(
        person=person(department, "Pia"),
        officer=officer,
        arrived_at=now - timedelta(days=10),
        accepted_after=5,
        arrived_after=20,
        placed_after=60,
        admitted_after=120,
        facility=facility,
    )
    today = timezone.localdate(now, department.tzinfo)
    builders.follow_up(placed, today - timedelta(days=2), days=1)
    builders.follow_up(placed, today, days=7)
    builders.follow_up(placed, today + timedelta(days=1), days=30)
    builders.follow_up(placed, today - timedelta(days=5), days=90, completed_by=officer)

    elsewhere = make(
        person=person(other_department, "Xena"), officer=other_officer, arrived_at=now - timedelta(minutes=30)
    )
    return {
        "angel": angel,
        "waiting": waiting,
        "on_the_way": on_the_way,
        "searching": searching,
        "placed": placed,
        "elsewhere": elsewhere,
    }


def test_the_board_lists_each_column_oldest_first(scene, department, now):
    board = board_for_coordinator(departments=[department], now=now)

    assert [i.person.first_name for i in board.waiting] == ["Wanda", "Walt", "Wendy"]
    assert (board.waiting[0].open_offers, board.waiting[0].declined_offers) == (1, 1)
    assert [o.intake.person.first_name for o in board.on_the_way] == ["Otto"]
    assert [i.person.first_name for i in board.searching] == ["Sam"]
    assert board.searching[0].attempts == 2
    assert [(f.days_after_admission, f.days_overdue) for f in board.follow_ups_due] == [(1, 2), (7, 0)]


def test_minutes_waited_turn_amber_after_10_and_red_after_20(scene, coordinator_client):
    html = coordinator_client.get(BOARD).text

    assert '<span class="">5 min</span>' in html
    assert '<span class="text-warning-emphasis fw-semibold">12 min</span>' in html
    assert '<span class="text-danger fw-bold">25 min</span>' in html


def test_every_row_links_to_its_walk_in(scene, coordinator_client):
    html = coordinator_client.get(BOARD).text

    for intake in [*scene["waiting"].values(), scene["on_the_way"], scene["searching"], scene["placed"]]:
        assert reverse("intake:detail", args=[intake.pk]) in html


def test_a_late_companion_is_flagged(scene, coordinator_client):
    html = coordinator_client.get(BOARD).text

    assert str(scene["angel"]) in html
    assert "5 min late" in html


def test_the_board_refreshes_itself_with_htmx(scene, coordinator_client):
    page = coordinator_client.get(BOARD)
    partial = coordinator_client.get(BOARD, headers={"HX-Request": "true"})

    assert 'hx-trigger="every 15s"' in page.text
    assert f'hx-get="{BOARD}"' in page.text
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "Wanda" in partial.text


def test_another_departments_walk_ins_never_show(scene, coordinator_client, other_coordinator, department):
    mine = coordinator_client.get(BOARD).text
    theirs = client_for(other_coordinator)

    assert "Xena" not in mine
    assert "Xena" in theirs.get(BOARD).text
    assert "Wanda" not in theirs.get(BOARD).text
    refused = theirs.get(BOARD, {"department": department.pk})
    assert refused.status_code == 400
    assert "Wanda" not in refused.text


def test_a_coordinator_of_two_departments_sees_both_and_can_narrow(scene, coordinator, other_department):
    Membership.objects.create(user=coordinator, department=other_department, role=Role.COORDINATOR)
    client = client_for(coordinator)

    both = client.get(BOARD).text
    one = client.get(BOARD, {"department": other_department.pk}).text

    assert "Xena" in both and "Wanda" in both
    assert "Xena" in one and "Wanda" not in one
    assert "Rockport Police Department" in both


def test_an_empty_board_says_so(coordinator_client):
    html = coordinator_client.get(BOARD).text

    assert "Nobody is waiting for a companion." in html
    assert "No follow-up is due." in html


def test_coordinators_land_on_the_board(coordinator_client):
    response = coordinator_client.get(reverse("accounts:home"))

    assert response["Location"] == BOARD


def test_a_network_coordinator_chooses_departments_from_a_list(db):
    from accounts.models import Role
    from tests.conftest import client_for
    from tests.factories import DepartmentFactory, user_with_role

    departments = [DepartmentFactory(name=f"Network Police Department {n:02d}") for n in range(15)]
    coordinator = user_with_role(Role.COORDINATOR, departments[0], username="network")
    for department in departments[1:]:
        coordinator.memberships.create(department=department, role=Role.COORDINATOR)

    page = client_for(coordinator).get(f"/dashboard/?department={departments[3].pk}").text

    assert '<select class="form-select" name="department" id="id_department" multiple' in page
    assert page.count("<option value=") == 15
    assert f'<option value="{departments[3].pk}" selected>' in page
    assert 'type="checkbox"' not in page


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(0, "0 min"), (12, "12 min"), (89, "89 min"), (90, "1\xa0hour, 30\xa0minutes"), (180, "3\xa0hours")],
)
def test_the_board_shows_time_elapsed_in_minutes_then_hours(minutes, shown):
    from datetime import timedelta

    from django.utils import timezone

    from intake.templatetags.intake_tags import elapsed

    now = timezone.now()

    assert elapsed(now - timedelta(minutes=minutes), now) == shown
