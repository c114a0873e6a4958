"""The intake services' rules, and the database constraints behind them."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import Consent, Intake, IntakeEvent, Person
from intake.services import (
    TRANSITIONS,
    TransitionError,
    consent_record,
    consent_revoke,
    intake_close,
    intake_create,
    intake_transition,
)
from tests.factories import ConsentFactory, IntakeFactory

Status = Intake.Status


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer)


def _in_state(walk_in: Intake, status: str) -> Intake:
    Intake.objects.filter(pk=walk_in.pk).update(status=status)
    walk_in.refresh_from_db()
    return walk_in


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (Status.WAITING_FOR_COMPANION, Status.PLACED),
        (Status.WAITING_FOR_COMPANION, Status.COMPANION_ARRIVED),
        (Status.COMPANION_ARRIVED, Status.PLACED),  # placed only from searching_placement
        (Status.WAITING_FOR_COMPANION, Status.WAITING_FOR_COMPANION),
        (Status.COMPANION_ARRIVED, Status.WAITING_FOR_COMPANION),
        (Status.SEARCHING_PLACEMENT, Status.COMPANION_ASSIGNED),
        (Status.PLACED, Status.SEARCHING_PLACEMENT),
        (Status.WAITING_FOR_COMPANION, Status.CLOSED),  # closing goes through intake_close
    ],
)
def test_moves_outside_the_workflow_are_refused_and_leave_no_trace(walk_in, officer, from_status, to_status):
    walk_in = _in_state(walk_in, from_status)
    events_before = IntakeEvent.objects.count()

    with pytest.raises(TransitionError):
        intake_transition(intake=walk_in, to_status=to_status, actor=officer)

    walk_in.refresh_from_db()
    assert walk_in.status == from_status
    assert IntakeEvent.objects.count() == events_before


def test_a_closed_walk_in_cannot_be_reopened(walk_in, officer):
    intake_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.DECLINED_TREATMENT)

    with pytest.raises(TransitionError, match="cannot move to that state"):
        intake_transition(intake=walk_in, to_status=Status.WAITING_FOR_COMPANION, actor=officer)


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(start, end) for start, ends in TRANSITIONS.items() for end in sorted(ends)],
)
def test_every_allowed_move_is_recorded_with_who_and_when(walk_in, coordinator, from_status, to_status):
    walk_in = _in_state(walk_in, from_status)
    before = timezone.now()

    moved = intake_transition(intake=walk_in, to_status=to_status, actor=coordinator)

    assert moved.status == to_status
    walk_in.refresh_from_db()
    assert walk_in.status == to_status
    event = walk_in.events.order_by("-at", "-id").first()
    assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, coordinator)
    assert before <= event.at <= timezone.now()


def test_the_happy_path_from_walk_in_to_placement(walk_in, coordinator):
    for status in (
        Status.COMPANION_ASSIGNED,
        Status.COMPANION_ARRIVED,
        Status.SEARCHING_PLACEMENT,
        Status.PLACED,
    ):
        intake_transition(intake=walk_in, to_status=status, actor=coordinator)

    walk_in.refresh_from_db()
    assert walk_in.status == Status.PLACED
    assert list(walk_in.events.values_list("to_status", flat=True)) == [
        "waiting_for_companion",
        "companion_assigned",
        "companion_arrived",
        "searching_placement",
        "placed",
    ]


def test_a_companion_assigned_stops_the_paging_and_a_withdrawal_restarts_it(walk_in, coordinator):
    assert walk_in.companion_needed_at is not None

    intake_transition(intake=walk_in, to_status=Status.COMPANION_ASSIGNED, actor=None)
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is None

    intake_transition(intake=walk_in, to_status=Status.WAITING_FOR_COMPANION, actor=coordinator)
    walk_in.refresh_from_db()
    assert walk_in.status == Status.WAITING_FOR_COMPANION
    assert walk_in.companion_needed_at is not None


@pytest.mark.parametrize("reason", ["", "exploded", "closed", None])
def test_closing_needs_a_valid_reason(walk_in, officer, reason):
    events_before = walk_in.events.count()

    with pytest.raises(TransitionError, match="Choose why"):
        intake_close(intake=walk_in, actor=officer, reason=reason)

    walk_in.refresh_from_db()
    assert walk_in.status == Status.WAITING_FOR_COMPANION
    assert walk_in.events.count() == events_before


def test_closing_records_the_reason_and_stops_the_paging(walk_in, officer):
    before = timezone.now()

    intake_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT)

    walk_in.refresh_from_db()
    assert walk_in.status == Status.CLOSED
    assert walk_in.close_reason == Intake.CloseReason.LEFT_BEFORE_PLACEMENT
    assert before <= walk_in.closed_at <= timezone.now()
    assert walk_in.companion_needed_at is None
    event = walk_in.events.last()
    assert (event.from_status, event.to_status, event.close_reason, event.actor) == (
        Status.WAITING_FOR_COMPANION,
        Status.CLOSED,
        Intake.CloseReason.LEFT_BEFORE_PLACEMENT,
        officer,
    )


def test_closing_twice_is_refused(walk_in, officer):
    intake_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.DUPLICATE)
    events_before = walk_in.events.count()

    with pytest.raises(TransitionError, match="already closed"):
        intake_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.INELIGIBLE)

    walk_in.refresh_from_db()
    assert walk_in.close_reason == Intake.CloseReason.DUPLICATE
    assert walk_in.events.count() == events_before


def test_a_placed_walk_in_cannot_be_closed(walk_in, officer):
    walk_in = _in_state(walk_in, Status.PLACED)

    with pytest.raises(TransitionError):
        intake_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.DUPLICATE)


def test_database_refuses_a_closed_walk_in_without_a_reason(walk_in):
    with pytest.raises(IntegrityError, match="intake_closed_has_reason"), transaction.atomic():
        Intake.objects.filter(pk=walk_in.pk).update(status=Status.CLOSED, closed_at=timezone.now())

    walk_in.refresh_from_db()
    assert walk_in.status == Status.WAITING_FOR_COMPANION


def test_database_refuses_a_closed_walk_in_without_a_closing_time(walk_in):
    with pytest.raises(IntegrityError, match="intake_closed_has_reason"), transaction.atomic():
        Intake.objects.filter(pk=walk_in.pk).update(status=Status.CLOSED, close_reason="duplicate")


def test_database_refuses_a_reason_on_an_open_walk_in(walk_in):
    with pytest.raises(IntegrityError, match="intake_closed_has_reason"), transaction.atomic():
        Intake.objects.filter(pk=walk_in.pk).update(close_reason="duplicate")


def test_database_refuses_a_minor_without_guardian_consent(walk_in):
    with pytest.raises(IntegrityError, match="intake_minor_has_guardian_consent"), transaction.atomic():
        Intake.objects.filter(pk=walk_in.pk).update(under_18=True)

    with pytest.raises(IntegrityError, match="intake_minor_has_guardian_consent"), transaction.atomic():
        Intake.objects.filter(pk=walk_in.pk).update(under_18=True, guardian_consent_at=timezone.now())

    walk_in.refresh_from_db()
    assert walk_in.under_18 is False


def test_database_accepts_a_minor_with_guardian_consent(walk_in):
    Intake.objects.filter(pk=walk_in.pk).update(
        under_18=True, guardian_name="Pat Quinn", guardian_consent_at=timezone.now()
    )

    walk_in.refresh_from_db()
    assert walk_in.under_18 is True


def test_database_refuses_a_consent_without_signature(walk_in):
    with pytest.raises(IntegrityError, match="consent_is_signed"), transaction.atomic():
        ConsentFactory(intake=walk_in, signature="")

    assert not Consent.objects.exists()


def test_database_refuses_a_consent_without_expiry_or_acknowledged_notice(walk_in):
    with pytest.raises(IntegrityError, match="consent_has_expiry"), transaction.atomic():
        ConsentFactory(intake=walk_in, expires_on=None, expiry_event="")
    with pytest.raises(IntegrityError, match="consent_notice_acknowledged"), transaction.atomic():
        ConsentFactory(intake=walk_in, notice_acknowledged=False)

    assert not Consent.objects.exists()


def test_consent_record_refuses_a_missing_signature_before_the_database_does(walk_in, officer):
    data = {
        "patient_name": "Wren Okafor",
        "disclosing_party": "Gloucester PD",
        "information": "Contact details",
        "recipients": "Treatment facilities",
        "purpose": "Placement",
        "expires_on": date(2099, 1, 1),
        "notice_acknowledged": True,
        "signature": "",
    }

    with pytest.raises(ValidationError) as refused:
        consent_record(intake=walk_in, actor=officer, data=data)

    assert "signature" in refused.value.message_dict
    assert not Consent.objects.exists()


def test_consent_revoke_twice_is_refused(walk_in, officer):
    consent = ConsentFactory(intake=walk_in)
    consent_revoke(consent=consent, actor=officer, note="by phone")

    with pytest.raises(ValidationError, match="already revoked"):
        consent_revoke(consent=consent, actor=officer, note="again")

    consent.refresh_from_db()
    assert consent.revocation_note == "by phone"


def _person_data(**overrides) -> dict:
    return {"first_name": "Wren", "last_name": "", "date_of_birth": None, "approximate_age": 30} | overrides


def _intake_data(**overrides) -> dict:
    return {"companion_language": "en", "warrant_check": "none"} | overrides


def test_intake_create_commits_person_intake_and_first_event_together(department, officer):
    intake = intake_create(
        department=department, officer=officer, person_data=_person_data(), intake_data=_intake_data()
    )

    assert intake.status == Status.WAITING_FOR_COMPANION
    assert intake.companion_needed_at is not None
    assert intake.person.department == department
    assert list(intake.events.values_list("from_status", "to_status")) == [("", "waiting_for_companion")]


def test_intake_create_leaves_nothing_behind_when_the_intake_is_invalid(department, officer):
    with pytest.raises(ValidationError):
        intake_create(
            department=department,
            officer=officer,
            person_data=_person_data(),
            intake_data=_intake_data(under_18=True),  # no guardian: refused after the person is saved
        )

    assert (Person.objects.count(), Intake.objects.count(), IntakeEvent.objects.count()) == (0, 0, 0)


def test_intake_create_never_links_only_suggests(department, other_department, officer):
    """A repeat visit gets its own record; a coordinator decides (issue 13, finding 2)."""
    data = _person_data(date_of_birth=date(1988, 2, 29), approximate_age=None)
    known = IntakeFactory(
        department=department,
        person__first_name=data["first_name"].upper(),
        person__date_of_birth=data["date_of_birth"],
    ).person
    IntakeFactory(
        department=other_department,
        person__first_name=data["first_name"],
        person__date_of_birth=data["date_of_birth"],
    )

    intake = intake_create(
        department=department, officer=officer, person_data=data, intake_data=_intake_data()
    )

    assert intake.person != known
    suggestion = intake.repeat_visit_suggestions.get()
    assert (suggestion.candidate, suggestion.status) == (known, "suggested")
    assert suggestion.reasons == ["same_first_name", "same_date_of_birth"]
