"""One-off shifts: signing up, coordinators assigning, the rules, overlaps, and dropping."""

from __future__ import annotations

import threading
import time as time_module
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from volunteers.models import Shift
from volunteers.roster import services as roster_services

from ..factories import DepartmentFactory
from .conftest import make_volunteer, shift

NOW = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # noon in Gloucester (EDT)


def _create(volunteer, department, starts_at, hours=8, *, by=None, now=NOW):
    return roster_services.shift_create(
        volunteer=volunteer,
        department=department,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        created_by=by or volunteer.user,
        now=now,
    )


def _message(error: pytest.ExceptionInfo) -> str:
    return " ".join(error.value.messages)


def test_volunteer_signs_up_for_a_one_off_shift(volunteer, department):
    created = _create(volunteer, department, NOW + timedelta(hours=6))

    assert created.volunteer == volunteer
    assert created.department == department
    assert created.series is None
    assert created.ends_at - created.starts_at == timedelta(hours=8)


def test_coordinator_assigns_a_volunteer_of_their_department(volunteer, department, coordinator):
    created = _create(volunteer, department, NOW + timedelta(days=2), by=coordinator)

    assert Shift.objects.get() == created


@pytest.mark.parametrize("who", ["another volunteer", "other_coordinator", "officer"])
def test_nobody_else_puts_a_volunteer_on_call(request, volunteer, department, who):
    actor = (
        make_volunteer(department, "someone-else").user
        if who == "another volunteer"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        _create(volunteer, department, NOW + timedelta(days=2), by=actor)
    assert not Shift.objects.exists()


def test_shift_must_end_after_it_starts(volunteer, department):
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(hours=6), hours=0)
    assert "end after it starts" in _message(error)


def test_shift_of_more_than_24_hours_is_refused(volunteer, department):
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(hours=6), hours=24.5)
    assert "at most 24 hours" in _message(error)
    assert _create(volunteer, department, NOW + timedelta(hours=6), hours=24)


def test_24_hours_on_the_clock_is_fine_on_the_night_the_clocks_go_back(volunteer, department):
    """Noon to noon across 1 November 2026 lasts 25 real hours, 24 on the clock."""
    now = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    starts_at = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # noon EDT
    created = _create(volunteer, department, starts_at, hours=25, now=now)

    assert timezone.localtime(created.ends_at, department.tzinfo).hour == 12


def test_shift_in_the_past_is_refused_but_a_few_minutes_ago_is_fine(volunteer, department):
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW - timedelta(hours=1))
    assert "passed" in _message(error)
    assert _create(volunteer, department, NOW - timedelta(minutes=2))


def test_shift_more_than_a_year_ahead_is_refused(volunteer, department):
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(days=400))
    assert "a year ahead" in _message(error)


def test_volunteer_must_serve_the_department(volunteer, other_department):
    with pytest.raises(ValidationError) as error:
        _create(volunteer, other_department, NOW + timedelta(hours=6))
    assert "does not serve Rockport Police Department" in _message(error)


@pytest.mark.parametrize(
    "change",
    [
        {"training_completed_on": None},
        {"confidentiality_agreement_signed_on": None},
        {"background_check_on": None},
        {"background_check_on": NOW.date() - timedelta(days=365 * 3)},
        {"is_active": False},
    ],
)
def test_volunteer_who_may_not_be_paged_cannot_be_put_on_call(volunteer, department, coordinator, change):
    for name, value in change.items():
        setattr(volunteer, name, value)
    volunteer.save()
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(hours=6), by=coordinator)
    assert "vetting is complete" in _message(error)


def test_overlapping_shift_is_refused_naming_the_clash(volunteer, department):
    _create(volunteer, department, NOW + timedelta(hours=6))  # 6 PM to 2 AM local
    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(hours=10))
    assert _message(error) == (
        "This overlaps the shift on Wed Jun 10, 6:00 PM – 2:00 AM (Gloucester Police Department)."
    )
    assert Shift.objects.count() == 1


def test_overlap_is_refused_across_departments(volunteer, department, other_department):
    volunteer.departments.add(other_department)
    _create(volunteer, department, NOW + timedelta(hours=6))
    with pytest.raises(ValidationError):
        _create(volunteer, other_department, NOW + timedelta(hours=7))


def test_back_to_back_shifts_and_other_volunteers_at_the_same_time_are_fine(volunteer, department):
    _create(volunteer, department, NOW + timedelta(hours=6))
    _create(volunteer, department, NOW + timedelta(hours=14))
    colleague = make_volunteer(department, "colleague")
    _create(colleague, department, NOW + timedelta(hours=6))
    assert Shift.objects.count() == 3


def test_database_refuses_an_overlap_the_check_did_not_see(volunteer, department, monkeypatch):
    _create(volunteer, department, NOW + timedelta(hours=6))
    monkeypatch.setattr(roster_services, "_check_no_overlap", lambda **kwargs: None)

    with pytest.raises(ValidationError) as error:
        _create(volunteer, department, NOW + timedelta(hours=9))
    assert _message(error) == "This overlaps another shift."
    assert Shift.objects.count() == 1


def test_exclusion_constraint_holds_without_the_service(volunteer, department):
    shift(volunteer, department, NOW, hours=8)
    with pytest.raises(IntegrityError), transaction.atomic():
        shift(volunteer, department, NOW + timedelta(hours=7, minutes=59), hours=1)


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_sign_ups_at_the_same_instant_one_wins(volunteer, department, monkeypatch):
    """Two phones sign the same volunteer up for overlapping shifts at the same instant: one
    shift is created; the other waits for it and gets the clear message naming the shift it
    overlaps (without the schedule lock both pass the check, and PostgreSQL's exclusion
    constraint either refuses one bluntly or deadlocks them)."""
    real_check = roster_services._check_no_overlap

    def slow_check(**kwargs):
        time_module.sleep(0.3)  # long enough for the other sign-up to arrive meanwhile
        real_check(**kwargs)

    monkeypatch.setattr(roster_services, "_check_no_overlap", slow_check)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign_up(offset_minutes: int) -> None:
        try:
            barrier.wait(timeout=10)
            _create(volunteer, department, NOW + timedelta(hours=6, minutes=offset_minutes))
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        except Exception as error:  # recorded, so the assertion shows it
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(minutes,)) for minutes in (0, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert "created" in outcomes
    (refusal,) = [outcome for outcome in outcomes if outcome != "created"]
    assert refusal.startswith("This overlaps the shift on")
    assert Shift.objects.count() == 1


# --- dropping ---------------------------------------------------------------------------------


def test_volunteer_drops_their_own_future_shift(volunteer, department):
    future = shift(volunteer, department, NOW + timedelta(hours=3))

    assert roster_services.shift_drop(shift=future, actor=volunteer.user, now=NOW) == "dropped"
    assert not Shift.objects.exists()


def test_volunteer_cannot_drop_a_shift_in_progress(volunteer, department):
    current = shift(volunteer, department, NOW - timedelta(hours=1))

    with pytest.raises(ValidationError) as error:
        roster_services.shift_drop(shift=current, actor=volunteer.user, now=NOW)
    assert "already started" in _message(error)
    assert Shift.objects.get().ends_at == current.ends_at


def test_coordinator_drops_a_future_shift_and_ends_one_in_progress(volunteer, department, coordinator):
    current = shift(volunteer, department, NOW - timedelta(hours=1))
    future = shift(volunteer, department, NOW + timedelta(days=1))

    assert roster_services.shift_drop(shift=future, actor=coordinator, now=NOW) == "dropped"
    assert roster_services.shift_drop(shift=current, actor=coordinator, now=NOW) == "ended"
    assert list(Shift.objects.values_list("starts_at", "ends_at")) == [(current.starts_at, NOW)]


def test_nobody_drops_a_shift_that_is_over(volunteer, department, coordinator):
    past = shift(volunteer, department, NOW - timedelta(hours=10))
    for actor in (volunteer.user, coordinator):
        with pytest.raises(ValidationError) as error:
            roster_services.shift_drop(shift=past, actor=actor, now=NOW)
        assert "over" in _message(error)
    assert Shift.objects.exists()


@pytest.mark.parametrize("who", ["another volunteer", "other_coordinator", "officer"])
def test_nobody_else_drops_a_volunteers_shift(request, volunteer, department, who):
    future = shift(volunteer, department, NOW + timedelta(hours=3))
    actor = (
        make_volunteer(department, "someone-else").user
        if who == "another volunteer"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        roster_services.shift_drop(shift=future, actor=actor, now=NOW)
    assert Shift.objects.exists()


def test_dropping_twice_says_it_is_gone(volunteer, department):
    future = shift(volunteer, department, NOW + timedelta(hours=3))
    roster_services.shift_drop(shift=future, actor=volunteer.user, now=NOW)
    with pytest.raises(ValidationError) as error:
        roster_services.shift_drop(shift=future, actor=volunteer.user, now=NOW)
    assert "already been removed" in _message(error)


def test_a_department_in_another_time_zone_reads_its_own_clock(volunteer):
    pacific = DepartmentFactory(name="Santa Cruz Police Department", time_zone="America/Los_Angeles")
    volunteer.departments.add(pacific)
    _create(volunteer, pacific, NOW + timedelta(hours=6))  # 3 PM Pacific
    with pytest.raises(ValidationError) as error:
        _create(volunteer, pacific, NOW + timedelta(hours=8))
    assert "Wed Jun 10, 3:00 PM – 11:00 PM (Santa Cruz Police Department)" in _message(error)
