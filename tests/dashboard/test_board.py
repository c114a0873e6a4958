"""The live board: who waits and for how long, companions on the way, placement searches and
follow-ups due; its htmx refresh; and what it hides from other departments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from intake.models import Intake
from referrals.models import PlacementAttempt
from referrals.reports.board import board_for_coordinator
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

    assert [row["first_name"] for row in board.waiting] == ["Wanda", "Walt", "Wendy"]
    assert (board.waiting[0]["asked"], board.waiting[0]["declined"]) == (1, 1)
    assert [row["first_name"] for row in board.on_the_way] == ["Otto"]
    assert [row["first_name"] for row in board.searching] == ["Sam"]
    assert board.searching[0]["calls"] == 2
    assert [(row["days_after_admission"], row["days_overdue"]) for row in board.follow_ups_due] == [
        (1, 2),
        (7, 0),
    ]


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

    from intake.waiting import elapsed

    now = timezone.now()

    assert elapsed(now - timedelta(minutes=minutes), now) == shown


def test_board_times_read_as_djangos_date_formats_on_each_departments_clock():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from django.utils import dateformat

    from config.formats import clock_time, month_day, weekday_month_day

    zone = ZoneInfo("America/Los_Angeles")
    start = datetime(2026, 3, 1, tzinfo=UTC)  # across a change to summer time
    for minutes in range(0, 3 * 24 * 60, 7):
        moment = start + timedelta(minutes=minutes)
        local = timezone.localtime(moment, zone)
        assert clock_time(moment, zone) == dateformat.format(local, "g:i A")
    for month in range(1, 13):
        day = datetime(2026, month, 9).date()
        assert month_day(day) == dateformat.format(day, "M j")
    for offset in range(7):
        day = datetime(2026, 11, 23 + offset).date()
        assert weekday_month_day(day) == dateformat.format(day, "D M j")


@pytest.mark.parametrize(
    "delta",
    [
        timedelta(minutes=95),
        timedelta(hours=23, minutes=59),
        timedelta(days=1),
        timedelta(days=9, hours=3),
        timedelta(days=45),
        timedelta(days=400, hours=5),
        timedelta(days=3 * 365),
    ],
)
def test_elapsed_past_90_minutes_reads_as_djangos_timesince(delta):
    from django.utils.timesince import timesince

    from intake.waiting import elapsed

    now = timezone.now()

    assert elapsed(now - delta, now) == timesince(now - delta, now)


def test_a_network_board_names_each_rows_department_and_a_departments_board_does_not(
    scene, department, other_department, now
):
    one = board_for_coordinator(departments=[department], now=now)
    both = board_for_coordinator(departments=[department, other_department], now=now)

    assert {row["department"] for row in one.waiting} == {""}
    assert {row["first_name"]: row["department"] for row in both.waiting}["Xena"] == other_department.name
    assert {row["first_name"]: row["department"] for row in both.waiting}["Wanda"] == department.name


def test_the_network_list_escapes_department_names(db):
    from tests.factories import DepartmentFactory, user_with_role

    departments = [DepartmentFactory(name=f"Network Police Department {n:02d}") for n in range(14)]
    departments.append(DepartmentFactory(name="Essex <County> & Sheriff"))
    coordinator = user_with_role(Role.COORDINATOR, departments[0], username="network")
    for department in departments[1:]:
        coordinator.memberships.create(department=department, role=Role.COORDINATOR)

    page = client_for(coordinator).get(BOARD).text

    assert f'<option value="{departments[-1].pk}">Essex &lt;County&gt; &amp; Sheriff</option>' in page
    assert "<County>" not in page


def test_the_header_counts_all_of_a_network_coordinators_departments(db):
    from tests.factories import DepartmentFactory, user_with_role

    departments = [DepartmentFactory(name=f"Network Police Department {n:02d}") for n in range(5)]
    coordinator = user_with_role(Role.COORDINATOR, departments[0], username="network")
    for department in departments[1:]:
        coordinator.memberships.create(department=department, role=Role.COORDINATOR)

    assert "5 departments" in client_for(coordinator).get(BOARD).text
