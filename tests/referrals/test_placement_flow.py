"""The placement, page by page: calls to facilities, the placement, the ride, the admission and
its follow-ups, or a closure — by a coordinator at a desk or the companion on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from referrals.models import FollowUp, Placement, PlacementAttempt
from referrals.placement.services import (
    placement_admission_confirm,
    placement_attempt_record,
    placement_record,
    placement_transport_update,
)
from volunteers.models import Offer

from ..conftest import client_for
from ..factories import FacilityFactory, IntakeFactory, OfferFactory, VolunteerFactory
from .placement_helpers import admitted, companion_arrived, local_input, placed

Status = Intake.Status
Outcome = PlacementAttempt.Outcome


@pytest.fixture
def facility(db):
    return FacilityFactory(name="Beverly Recovery House", phone="+19785550123")


@pytest.fixture
def walk_in(department, officer, volunteer_user):
    """Walked in two hours ago; the companion is with them."""
    return companion_arrived(
        department, officer, volunteer_user, arrived_at=timezone.now() - timedelta(hours=2)
    )


@pytest.fixture
def volunteer_client(volunteer_user):
    return client_for(volunteer_user)


def _url(name: str, intake: Intake) -> str:
    return reverse(f"referrals:{name}", kwargs={"intake_id": intake.pk})


def _call(intake: Intake, facility, outcome: str = Outcome.NO_BED, /, **overrides) -> dict:
    data = {
        "facility": facility.pk,
        "outcome": outcome,
        "attempted_at": local_input(timezone.now(), intake.department),
        "note": "",
    }
    data.update(overrides)
    return data


def _events(intake: Intake) -> list[tuple[str, str]]:
    return list(intake.events.order_by("at", "id").values_list("from_status", "to_status"))[1:]


# --- calls to facilities ----------------------------------------------------------------------


@pytest.mark.parametrize("outcome", Outcome.values)
def test_a_coordinator_records_a_call_with_each_outcome(
    coordinator_client, coordinator, walk_in, facility, outcome
):
    response = coordinator_client.post(
        _url("attempt_create", walk_in), _call(walk_in, facility, outcome, note="Ask for Dana")
    )

    assert response.status_code == 302
    attempt = PlacementAttempt.objects.get(intake=walk_in)
    assert (attempt.facility, attempt.outcome, attempt.attempted_by, attempt.note) == (
        facility,
        outcome,
        coordinator,
        "Ask for Dana",
    )
    assert attempt.department == walk_in.department
    walk_in.refresh_from_db()
    assert walk_in.status == Status.SEARCHING_PLACEMENT
    assert _events(walk_in) == [("companion_arrived", "searching_placement")]
    assert walk_in.events.last().actor == coordinator


def test_a_bed_offered_leads_to_the_placement_form_with_that_facility(coordinator_client, walk_in, facility):
    response = coordinator_client.post(
        _url("attempt_create", walk_in), _call(walk_in, facility, Outcome.BED_OFFERED)
    )

    assert response["Location"] == _url("placement_create", walk_in) + f"?facility={facility.pk}"
    page = coordinator_client.get(response["Location"])
    assert f'<option value="{facility.pk}" selected>' in page.text


def test_later_calls_do_not_move_the_walk_in_again(coordinator, walk_in, facility):
    for outcome in (Outcome.NO_ANSWER, Outcome.WAITLIST, Outcome.NO_BED):
        placement_attempt_record(intake=walk_in, actor=coordinator, facility=facility, outcome=outcome)

    assert PlacementAttempt.objects.filter(intake=walk_in).count() == 3
    assert _events(walk_in) == [("companion_arrived", "searching_placement")]


def test_the_directory_search_prefills_the_facility(coordinator_client, walk_in, facility):
    response = coordinator_client.get(_url("attempt_create", walk_in) + f"?facility={facility.pk}")

    assert response.status_code == 200
    assert f'<option value="{facility.pk}" selected>' in response.text
    assert 'href="tel:+19785550123"' in response.text


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999", "1;DROP TABLE", ""])
def test_a_bad_facility_in_the_query_string_is_ignored(coordinator_client, walk_in, value):
    response = coordinator_client.get(_url("attempt_create", walk_in) + f"?facility={value}")

    assert response.status_code == 200
    facility_select = response.text.split('name="facility"')[1].split("</select>")[0]
    assert facility_select.count(" selected>") == 1
    assert '<option value="" selected>' in facility_select


def test_calls_while_still_waiting_for_a_companion_keep_the_paging_going(
    coordinator, department, officer, facility
):
    waiting = IntakeFactory(department=department, logged_by=officer)
    needed_at = waiting.companion_needed_at

    placement_attempt_record(intake=waiting, actor=coordinator, facility=facility, outcome=Outcome.NO_BED)

    waiting.refresh_from_db()
    assert waiting.status == Status.WAITING_FOR_COMPANION
    assert waiting.companion_needed_at == needed_at
    assert PlacementAttempt.objects.filter(intake=waiting).count() == 1


def test_calls_while_the_companion_is_on_the_way_keep_the_arrival_timer(
    coordinator, department, officer, facility
):
    on_the_way = IntakeFactory(
        department=department, logged_by=officer, status=Status.COMPANION_ASSIGNED, companion_needed_at=None
    )

    placement_attempt_record(
        intake=on_the_way, actor=coordinator, facility=facility, outcome=Outcome.WAITLIST
    )

    on_the_way.refresh_from_db()
    assert on_the_way.status == Status.COMPANION_ASSIGNED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("facility", "abc", "Select a valid choice"),
        ("facility", "99999999999999999999999", "Select a valid choice"),
        ("facility", "", "This field is required."),
        ("outcome", "arrested", "Select a valid choice"),
        ("outcome", "", "This field is required."),
        ("attempted_at", "yesterday-ish", "Enter a valid date/time."),
        ("attempted_at", "99999-01-01T10:00", "Enter a valid date/time."),
        ("note", "A" * 10_000, "Ensure this value has at most 500 characters"),
        ("note", "call\x00back", "Null characters are not allowed."),
        ("note", "line one\nline two", "Please keep this to one line."),
        ("note", "bell\x07", "Please remove the invisible control characters"),
    ],
)
def test_hostile_input_on_the_call_form_is_a_clear_error(
    coordinator_client, walk_in, facility, field, value, message
):
    response = coordinator_client.post(
        _url("attempt_create", walk_in), _call(walk_in, facility, **{field: value})
    )

    assert response.status_code == 200
    assert message in response.text
    assert not PlacementAttempt.objects.exists()
    walk_in.refresh_from_db()
    assert walk_in.status == Status.COMPANION_ARRIVED


def test_a_call_in_the_future_or_before_the_walk_in_is_refused(
    coordinator_client, coordinator, walk_in, facility
):
    future = local_input(timezone.now() + timedelta(hours=2), walk_in.department)
    response = coordinator_client.post(
        _url("attempt_create", walk_in), _call(walk_in, facility, attempted_at=future)
    )
    assert "The call cannot be in the future." in response.text

    with pytest.raises(ValidationError, match="before the person walked in"):
        placement_attempt_record(
            intake=walk_in,
            actor=coordinator,
            facility=facility,
            outcome=Outcome.NO_BED,
            attempted_at=walk_in.arrived_at - timedelta(hours=1),
        )
    assert not PlacementAttempt.objects.exists()


def test_an_inactive_facility_cannot_be_called(coordinator, walk_in):
    closed = FacilityFactory(is_active=False)
    with pytest.raises(ValidationError, match="no longer in the directory"):
        placement_attempt_record(intake=walk_in, actor=coordinator, facility=closed, outcome=Outcome.NO_BED)


# --- who may record ---------------------------------------------------------------------------


def test_the_companion_records_calls_and_the_placement_from_their_phone(
    volunteer_client, volunteer_user, walk_in, facility
):
    offer = Offer.objects.get(intake=walk_in)
    assignment = volunteer_client.get(reverse("volunteers:assignment", kwargs={"offer_id": offer.pk}))
    assert _url("attempt_create", walk_in) in assignment.text

    form = volunteer_client.get(_url("attempt_create", walk_in))
    assert form.status_code == 200
    assert "container-narrow" in form.text
    assert 'type="datetime-local"' in form.text

    volunteer_client.post(_url("attempt_create", walk_in), _call(walk_in, facility, Outcome.BED_OFFERED))
    response = volunteer_client.post(
        _url("placement_create", walk_in), {"facility": facility.pk, "level_of_care": "3.7-WM"}
    )

    assert response["Location"] == _url("placement", walk_in)
    placement = Placement.objects.get(intake=walk_in)
    assert (placement.facility, placement.level_of_care, placement.placed_by) == (
        facility,
        "3.7-WM",
        volunteer_user,
    )
    walk_in.refresh_from_db()
    assert walk_in.status == Status.PLACED
    assert _events(walk_in) == [
        ("companion_arrived", "searching_placement"),
        ("searching_placement", "placed"),
    ]
    page = volunteer_client.get(_url("placement", walk_in))
    assert page.status_code == 200
    assert "Beverly Recovery House" in page.text
    # Sharing records and follow-ups are not the companion's (minimum necessary).
    assert "Share a referral sheet" not in page.text
    assignment = volunteer_client.get(reverse("volunteers:assignment", kwargs={"offer_id": offer.pk}))
    assert _url("transport_update", walk_in) in assignment.text
    assert _url("admission_confirm", walk_in) in assignment.text


def test_the_desk_officer_sees_the_placement_but_cannot_record_it(officer_client, walk_in, facility):
    assert officer_client.get(_url("placement", walk_in)).status_code == 200

    for name in (
        "attempt_create",
        "placement_create",
        "transport_update",
        "admission_confirm",
        "disclosure_create",
    ):
        assert officer_client.get(_url(name, walk_in)).status_code == 403, name
    response = officer_client.post(_url("attempt_create", walk_in), _call(walk_in, facility))

    assert response.status_code == 403
    assert not PlacementAttempt.objects.exists()


def test_another_departments_coordinator_is_told_nothing(other_coordinator, walk_in, facility):
    client = client_for(other_coordinator)
    for name in ("placement", "attempt_create", "placement_create", "disclosure_create"):
        assert client.get(_url(name, walk_in)).status_code == 404, name
    assert client.post(_url("attempt_create", walk_in), _call(walk_in, facility)).status_code == 404
    assert not PlacementAttempt.objects.exists()


def test_a_volunteer_who_is_not_the_companion_is_told_nothing(department, walk_in, facility):
    from accounts.models import Role

    from ..factories import user_with_role

    other = user_with_role(Role.VOLUNTEER, department, username="other-angel")
    VolunteerFactory(user=other).departments.add(department)
    client = client_for(other)

    assert client.get(_url("attempt_create", walk_in)).status_code == 404
    assert client.post(_url("attempt_create", walk_in), _call(walk_in, facility)).status_code == 404


def test_a_companion_whose_vetting_lapsed_cannot_record(volunteer_client, volunteer_user, walk_in):
    volunteer = volunteer_user.volunteer
    volunteer.background_check_on = date(2000, 1, 1)
    volunteer.save()

    assert volunteer_client.get(_url("attempt_create", walk_in)).status_code == 404


def test_the_companion_loses_access_once_the_admission_is_confirmed(volunteer_client, coordinator, walk_in):
    placement = placed(walk_in, coordinator)
    assert volunteer_client.get(_url("transport_update", walk_in)).status_code == 200

    placement_admission_confirm(placement=placement, actor=coordinator)

    for name in ("placement", "transport_update", "admission_confirm", "attempt_create"):
        assert volunteer_client.get(_url(name, walk_in)).status_code == 404, name


# --- the placement ----------------------------------------------------------------------------


def test_placing_someone_still_waiting_stops_the_paging(
    coordinator, department, officer, facility, volunteer_user
):
    waiting = IntakeFactory(department=department, logged_by=officer)
    paged = OfferFactory(intake=waiting, volunteer=volunteer_user.volunteer)

    placement_record(intake=waiting, actor=coordinator, facility=facility, level_of_care="3.5")

    waiting.refresh_from_db()
    paged.refresh_from_db()
    assert waiting.status == Status.PLACED
    assert waiting.companion_needed_at is None
    assert paged.status == Offer.Status.WITHDRAWN
    assert _events(waiting) == [
        ("waiting_for_companion", "searching_placement"),
        ("searching_placement", "placed"),
    ]


def test_a_placement_before_the_companion_arrives_is_recorded(coordinator, department, officer, facility):
    on_the_way = IntakeFactory(
        department=department, logged_by=officer, status=Status.COMPANION_ASSIGNED, companion_needed_at=None
    )

    placement_record(intake=on_the_way, actor=coordinator, facility=facility, level_of_care="3.5")

    assert _events(on_the_way) == [
        ("companion_assigned", "searching_placement"),
        ("searching_placement", "placed"),
    ]


def test_a_walk_in_is_placed_once(coordinator_client, coordinator, walk_in, facility):
    placed(walk_in, coordinator, facility)

    with pytest.raises(ValidationError, match="already has a placement"):
        placement_record(intake=walk_in, actor=coordinator, facility=facility, level_of_care="3.5")
    response = coordinator_client.get(_url("placement_create", walk_in))
    assert response.status_code == 302
    response = coordinator_client.post(_url("attempt_create", walk_in), _call(walk_in, facility))
    assert response.status_code == 302
    assert Placement.objects.count() == 1
    assert not PlacementAttempt.objects.exists()


def test_a_closed_walk_in_cannot_be_placed(coordinator, walk_in, facility):
    from volunteers.paging.services import walk_in_close

    walk_in_close(intake=walk_in, actor=coordinator, reason=Intake.CloseReason.DECLINED_TREATMENT)

    with pytest.raises(ValidationError, match="closed"):
        placement_record(intake=walk_in, actor=coordinator, facility=facility, level_of_care="3.5")
    with pytest.raises(ValidationError, match="placed or closed"):
        placement_attempt_record(intake=walk_in, actor=coordinator, facility=facility, outcome=Outcome.NO_BED)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level_of_care": "9"}, "Select a valid choice"),
        ({"level_of_care": ""}, "This field is required."),
        ({"facility": "x"}, "Select a valid choice"),
        ({"bed_held_until": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_hostile_input_on_the_placement_form_is_a_clear_error(
    coordinator_client, walk_in, facility, data, message
):
    response = coordinator_client.post(
        _url("placement_create", walk_in), {"facility": facility.pk, "level_of_care": "3.7-WM", **data}
    )

    assert response.status_code == 200
    assert message in response.text
    assert not Placement.objects.exists()
    walk_in.refresh_from_db()
    assert walk_in.status == Status.COMPANION_ARRIVED


# --- closures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", Intake.CloseReason.values)
def test_a_search_can_end_with_each_closure_reason(
    coordinator_client, coordinator, walk_in, facility, reason
):
    placement_attempt_record(
        intake=walk_in, actor=coordinator, facility=facility, outcome=Outcome.PERSON_DECLINED
    )

    response = coordinator_client.post(
        reverse("intake:close", kwargs={"intake_id": walk_in.pk}), {"reason": reason}
    )

    assert response.status_code == 302
    walk_in.refresh_from_db()
    assert (walk_in.status, walk_in.close_reason) == (Status.CLOSED, reason)
    assert _events(walk_in)[-1] == ("searching_placement", "closed")
    assert walk_in.events.last().close_reason == reason
    panel = coordinator_client.get(_url("placement", walk_in))
    assert "Closed without a placement" in panel.text
    assert _url("attempt_create", walk_in) not in panel.text


def test_a_placed_walk_in_cannot_be_closed(coordinator_client, coordinator, walk_in):
    placed(walk_in, coordinator)

    coordinator_client.post(
        reverse("intake:close", kwargs={"intake_id": walk_in.pk}), {"reason": "left_before_placement"}
    )

    walk_in.refresh_from_db()
    assert walk_in.status == Status.PLACED
    assert walk_in.close_reason == ""


# --- transport --------------------------------------------------------------------------------


def _ride(department, **overrides) -> dict:
    now = timezone.now()
    data = {
        "transport_mode": "volunteer",
        "transport_by": "Sam (companion)",
        "departed_at": local_input(now - timedelta(minutes=50), department),
        "arrived_at": local_input(now - timedelta(minutes=5), department),
    }
    data.update(overrides)
    return data


def test_the_companion_records_the_ride(volunteer_client, coordinator, walk_in):
    placed(walk_in, coordinator)

    response = volunteer_client.post(_url("transport_update", walk_in), _ride(walk_in.department))

    assert response.status_code == 302
    placement = Placement.objects.get(intake=walk_in)
    assert placement.transport_mode == "volunteer"
    assert placement.transport_by == "Sam (companion)"
    assert placement.departed_at < placement.arrived_at <= timezone.now()


def test_the_ride_can_be_recorded_in_two_steps(coordinator_client, coordinator, walk_in):
    placed(walk_in, coordinator)
    coordinator_client.post(_url("transport_update", walk_in), _ride(walk_in.department, arrived_at=""))
    placement = Placement.objects.get(intake=walk_in)
    assert placement.departed_at is not None
    assert placement.arrived_at is None

    page = coordinator_client.get(_url("transport_update", walk_in))
    assert local_input(placement.departed_at, walk_in.department) in page.text


@pytest.mark.parametrize(
    ("field", "when", "message"),
    [
        ("arrived_at", timedelta(hours=-2), "The arrival cannot be before the departure."),
        ("arrived_at", timedelta(hours=3), "The arrival cannot be in the future."),
        ("departed_at", timedelta(hours=3), "The departure cannot be in the future."),
    ],
)
def test_impossible_times_for_the_ride_are_form_errors(
    coordinator_client, coordinator, walk_in, field, when, message
):
    placed(walk_in, coordinator)
    data = _ride(walk_in.department, **{field: local_input(timezone.now() + when, walk_in.department)})

    response = coordinator_client.post(_url("transport_update", walk_in), data)

    assert response.status_code == 200
    assert message in response.text
    placement = Placement.objects.get(intake=walk_in)
    assert placement.transport_mode == ""
    assert placement.departed_at is None


def test_an_arrival_needs_a_departure(coordinator_client, coordinator, walk_in):
    placed(walk_in, coordinator)

    response = coordinator_client.post(
        _url("transport_update", walk_in), _ride(walk_in.department, departed_at="")
    )

    assert "Record when they left before when they arrived." in response.text
    assert Placement.objects.get(intake=walk_in).arrived_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"transport_mode": "teleport"}, "Select a valid choice"),
        ({"transport_mode": ""}, "This field is required."),
        ({"transport_by": "A" * 151}, "at most 150 characters"),
        ({"transport_by": "\x1b[31mred"}, "invisible control characters"),
        ({"departed_at": "2026-02-30T10:00"}, "Enter a valid date/time."),
    ],
)
def test_hostile_input_on_the_ride_form_is_a_clear_error(
    coordinator_client, coordinator, walk_in, data, message
):
    placed(walk_in, coordinator)

    response = coordinator_client.post(_url("transport_update", walk_in), _ride(walk_in.department, **data))

    assert response.status_code == 200
    assert message in response.text
    assert Placement.objects.get(intake=walk_in).transport_mode == ""


def test_the_service_refuses_an_arrival_before_the_departure(coordinator, walk_in):
    placement = placed(walk_in, coordinator)
    now = timezone.now()

    with pytest.raises(ValidationError, match="before the departure"):
        placement_transport_update(
            placement=placement,
            actor=coordinator,
            mode="police",
            departed_at=now,
            arrived_at=now - timedelta(hours=1),
        )
    with pytest.raises(ValidationError, match="in the future"):
        placement_transport_update(
            placement=placement, actor=coordinator, mode="police", departed_at=now + timedelta(hours=1)
        )


def test_transport_before_a_placement_sends_back_to_the_placement(coordinator_client, walk_in):
    response = coordinator_client.get(_url("transport_update", walk_in))

    assert response["Location"] == _url("placement", walk_in)


# --- admission and follow-ups -----------------------------------------------------------------


def test_confirming_the_admission_schedules_the_default_follow_ups(
    coordinator_client, coordinator, walk_in, time_machine
):
    placed(walk_in, coordinator)
    admitted_at = timezone.now() - timedelta(minutes=10)

    response = coordinator_client.post(
        _url("admission_confirm", walk_in),
        {"admitted_at": local_input(admitted_at, walk_in.department), "confirmed": "on"},
    )

    assert response.status_code == 302
    placement = Placement.objects.get(intake=walk_in)
    assert placement.admission_confirmed_by == coordinator
    admitted_on = timezone.localdate(placement.admitted_at, walk_in.department.tzinfo)
    follow_ups = list(FollowUp.objects.filter(intake=walk_in).order_by("due_on"))
    assert [(f.days_after_admission, f.due_on) for f in follow_ups] == [
        (days, admitted_on + timedelta(days=days)) for days in (1, 7, 30, 90)
    ]
    assert {f.responsible for f in follow_ups} == {coordinator}
    assert {f.department for f in follow_ups} == {walk_in.department}


def test_follow_ups_are_due_by_the_departments_own_calendar(coordinator, walk_in, time_machine):
    """Admitted at 11 PM in Massachusetts: already the next day in UTC, still today locally."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    late_evening = datetime(2026, 4, 14, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    time_machine.move_to(late_evening + timedelta(minutes=30), tick=False)
    IntakeFactory._meta.model.objects.filter(pk=walk_in.pk).update(
        arrived_at=late_evening - timedelta(hours=2)
    )
    walk_in.refresh_from_db()

    admitted(walk_in, coordinator, at=late_evening)

    assert FollowUp.objects.get(intake=walk_in, days_after_admission=1).due_on == date(2026, 4, 15)


def test_a_department_sets_its_own_follow_up_days(coordinator, walk_in):
    walk_in.department.follow_up_days = [14, 2]
    walk_in.department.save()

    placement = admitted(walk_in, coordinator)

    admitted_on = timezone.localdate(placement.admitted_at, walk_in.department.tzinfo)
    assert list(FollowUp.objects.filter(intake=walk_in).values_list("days_after_admission", "due_on")) == [
        (2, admitted_on + timedelta(days=2)),
        (14, admitted_on + timedelta(days=14)),
    ]


def test_confirming_twice_changes_nothing(coordinator_client, coordinator, walk_in):
    placement = admitted(walk_in, coordinator)
    first = placement.admitted_at

    again = placement_admission_confirm(placement=placement, actor=coordinator, admitted_at=timezone.now())

    assert again.admitted_at == first
    assert FollowUp.objects.filter(intake=walk_in).count() == 4
    response = coordinator_client.get(_url("admission_confirm", walk_in))
    assert response.status_code == 302


def test_when_the_companion_confirms_the_coordinator_who_placed_is_responsible(
    volunteer_client, coordinator, walk_in
):
    placed(walk_in, coordinator)

    volunteer_client.post(
        _url("admission_confirm", walk_in),
        {"admitted_at": local_input(timezone.now(), walk_in.department), "confirmed": "on"},
    )

    assert set(FollowUp.objects.filter(intake=walk_in).values_list("responsible", flat=True)) == {
        coordinator.pk
    }


def test_when_the_companion_placed_and_confirmed_the_longest_serving_coordinator_is_responsible(
    volunteer_user, department, coordinator, walk_in
):
    from accounts.models import Role

    from ..factories import user_with_role

    user_with_role(Role.COORDINATOR, department, username="newer-coordinator")
    placement = placement_record(
        intake=walk_in, actor=volunteer_user, facility=FacilityFactory(), level_of_care="3.7-WM"
    )

    placement_admission_confirm(placement=placement, actor=volunteer_user)

    assert set(FollowUp.objects.filter(intake=walk_in).values_list("responsible", flat=True)) == {
        coordinator.pk
    }


def test_an_admission_needs_the_facilitys_word(coordinator_client, coordinator, walk_in):
    placed(walk_in, coordinator)

    response = coordinator_client.post(
        _url("admission_confirm", walk_in), {"admitted_at": local_input(timezone.now(), walk_in.department)}
    )

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert Placement.objects.get(intake=walk_in).admitted_at is None
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("when", [timedelta(hours=2), timedelta(days=-30)])
def test_an_admission_in_the_future_or_before_the_walk_in_is_refused(
    coordinator_client, coordinator, walk_in, when
):
    placed(walk_in, coordinator)

    response = coordinator_client.post(
        _url("admission_confirm", walk_in),
        {"admitted_at": local_input(timezone.now() + when, walk_in.department), "confirmed": "on"},
    )

    assert response.status_code == 200
    assert "The admission cannot be" in response.text
    assert not FollowUp.objects.exists()


def test_the_whole_way_from_a_first_call_to_the_first_follow_up(
    coordinator_client, coordinator, walk_in, facility
):
    """What a coordinator does, page after page, on the day and the day after."""
    other = FacilityFactory(name="Gosnold on Cape Cod")
    post = coordinator_client.post

    post(_url("attempt_create", walk_in), _call(walk_in, other, Outcome.NO_BED))
    offered = post(_url("attempt_create", walk_in), _call(walk_in, facility, Outcome.BED_OFFERED))
    post(offered["Location"], {"facility": facility.pk, "level_of_care": "3.7-WM"})
    post(_url("transport_update", walk_in), _ride(walk_in.department))
    post(
        _url("admission_confirm", walk_in),
        {"admitted_at": local_input(timezone.now(), walk_in.department), "confirmed": "on"},
    )

    walk_in.refresh_from_db()
    assert walk_in.status == Status.PLACED
    assert [e[1] for e in _events(walk_in)] == ["searching_placement", "placed"]
    assert list(walk_in.placement_attempts.values_list("facility__name", "outcome")) == [
        ("Gosnold on Cape Cod", "no_bed"),
        ("Beverly Recovery House", "bed_offered"),
    ]
    placement = Placement.objects.get(intake=walk_in)
    assert placement.arrived_at is not None
    assert placement.admission_confirmed_by == coordinator
    assert FollowUp.objects.filter(intake=walk_in).count() == 4

    panel = coordinator_client.get(_url("placement", walk_in), HTTP_HX_REQUEST="true")
    assert 'id="placement-panel"' in panel.text
    assert "<html" not in panel.text
    assert "Confirmed" in panel.text
    assert "+90 days" in panel.text
    detail = coordinator_client.get(reverse("intake:detail", kwargs={"intake_id": walk_in.pk}))
    assert f'hx-get="{_url("placement", walk_in)}"' in detail.text


@pytest.mark.parametrize("value", ["", "soon", "2026-04-31T10:00", "0000-01-01T00:00"])
def test_hostile_input_on_the_admission_form_is_a_clear_error(
    coordinator_client, coordinator, walk_in, value
):
    placed(walk_in, coordinator)

    response = coordinator_client.post(
        _url("admission_confirm", walk_in), {"admitted_at": value, "confirmed": "on"}
    )

    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert Placement.objects.get(intake=walk_in).admitted_at is None
    assert not FollowUp.objects.exists()
