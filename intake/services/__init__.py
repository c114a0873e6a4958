"""Writes to intakes. Each service is atomic and records who did what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User

from ..models import ADULT_AGE, Consent, Intake, IntakeEvent, Person, RepeatVisitSuggestion
from ..records import person_record_models
from ..selectors import repeat_visit_candidates

Status = Intake.Status

# Allowed moves of the intake state machine (docs/design.md "Workflow and states"). Any open state
# may also be closed with a reason, through ``intake_close``. A placement may be found before a
# companion arrives, or without one: ``referrals.placement.services.placement_record`` then moves the
# intake through searching_placement to placed (stopping the paging first if it is still on).
TRANSITIONS: dict[str, set[str]] = {
    Status.WAITING_FOR_COMPANION: {Status.COMPANION_ASSIGNED, Status.SEARCHING_PLACEMENT},
    Status.COMPANION_ASSIGNED: {
        Status.WAITING_FOR_COMPANION,
        Status.COMPANION_ARRIVED,
        Status.SEARCHING_PLACEMENT,
    },
    Status.COMPANION_ARRIVED: {Status.SEARCHING_PLACEMENT},
    Status.SEARCHING_PLACEMENT: {Status.PLACED},
    Status.PLACED: set(),
    Status.CLOSED: set(),
}


class TransitionError(ValidationError):
    pass


def intake_create(
    *,
    department: Department,
    officer: User,
    person_data: dict[str, Any],
    intake_data: dict[str, Any],
) -> Intake:
    """Record a walk-in and, unless the safety screen sends them to the ER, ask for a companion.

    Paging builds on this: ``volunteers.paging.services.walk_in_log`` calls it and queues the
    first wave on commit; nothing in intake pages anyone.

    Every walk-in gets a new Person: the desk never learns whether the person is known. Possible
    earlier visits are written as suggestions for coordinators (``repeat_visit_suggest``) in the
    same transaction, and nothing about them reaches the officer's answer.
    The intake, its first event and the request for a companion (``companion_needed_at``)
    commit together; the paging sweep picks it up from the database, so nothing is lost if the
    broker is down at this moment.
    When ``needs_emergency_care`` is set the intake is closed at once as a medical transfer.
    """
    now = timezone.now()
    with transaction.atomic():
        person = Person(department=department, **person_data)
        person.full_clean()
        person.save()

        intake = Intake(
            department=department, person=person, logged_by=officer, arrived_at=now, **intake_data
        )
        if intake.under_18 and intake.guardian_name and intake.guardian_consent_at is None:
            intake.guardian_consent_at = now
        if intake.needs_emergency_care:
            intake.status = Status.CLOSED
            intake.close_reason = Intake.CloseReason.MEDICAL_TRANSFER
            intake.closed_at = now
        else:
            intake.companion_needed_at = now
        intake.full_clean(exclude=["person", "logged_by", "department"])
        intake.save()

        IntakeEvent.objects.create(
            intake=intake, from_status="", to_status=Status.WAITING_FOR_COMPANION, actor=officer, at=now
        )
        if intake.status == Status.CLOSED:
            IntakeEvent.objects.create(
                intake=intake,
                from_status=Status.WAITING_FOR_COMPANION,
                to_status=Status.CLOSED,
                close_reason=intake.close_reason,
                actor=officer,
                at=now,
            )
        repeat_visit_suggest(intake=intake)
    return intake


# --- repeat visits: suggested after the walk-in is saved, decided by a coordinator -------------


def repeat_visit_suggest(*, intake: Intake) -> list[RepeatVisitSuggestion]:
    """Record each person already known who may be this walk-in's (``repeat_visit_candidates``)
    as a suggestion for the department's coordinators. Idempotent (one row per candidate).
    No notification, no log line: the suggestion is read on the intake page."""
    suggestions = []
    with transaction.atomic():
        for candidate, reasons in repeat_visit_candidates(intake=intake):
            suggestion, _ = RepeatVisitSuggestion.objects.get_or_create(
                intake=intake, candidate=candidate, defaults={"reasons": reasons}
            )
            suggestions.append(suggestion)
    return suggestions


def _locked_suggestion(suggestion: RepeatVisitSuggestion) -> RepeatVisitSuggestion:
    locked = RepeatVisitSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != RepeatVisitSuggestion.Status.SUGGESTED:
        raise ValidationError("This suggestion was already decided.")
    return locked


def _decide(suggestion: RepeatVisitSuggestion, *, status: str, actor: User, now: datetime) -> None:
    suggestion.status = status
    suggestion.decided_by = actor
    suggestion.decided_at = now
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])


# Details the walk-in's own record may add to the earlier one where the earlier one has none.
MERGED_PERSON_FIELDS = (
    "last_name",
    "gender",
    "pronouns",
    "phone",
    "town",
    "insurance",
    "insurance_member_id",
    "veteran",
    "emergency_contact_name",
    "emergency_contact_phone",
)


def repeat_visit_dismiss(*, suggestion: RepeatVisitSuggestion, actor: User) -> RepeatVisitSuggestion:
    """Not the same person. Locks the suggestion; the decision is in its change history."""
    with transaction.atomic():
        locked = _locked_suggestion(suggestion)
        _decide(locked, status=RepeatVisitSuggestion.Status.DISMISSED, actor=actor, now=timezone.now())
    return locked


def repeat_visit_link(*, suggestion: RepeatVisitSuggestion, actor: User) -> RepeatVisitSuggestion:
    """The same person: the walk-in joins the earlier person's record.

    Precondition: ``actor`` coordinates the walk-in's department (the view fetched the suggestion
    through ``repeat_visit_suggestion_get_for_coordinator``). Locks the suggestion, the intake and
    both people (in primary-key order). Moves every visit, consent and disclosure of the
    walk-in's new person to the earlier person, fills the earlier person's blank details from the
    new record, then marks the new record ``merged_into`` and erases its own details (it stays:
    the append-only access log names it). The walk-in's other suggestions are dismissed and
    suggestions naming the new record now name the earlier one. Every change is in the change
    history. Once linked, the walk-in leaves its desk officer's window (``officer_window_q``).
    """
    with transaction.atomic():
        locked = _locked_suggestion(suggestion)
        intake = _locked(locked.intake)
        people = {
            p.pk: p
            for p in Person.objects.select_for_update()
            .filter(pk__in=[intake.person_id, locked.candidate_id])
            .order_by("pk")
        }
        new, earlier = people.get(intake.person_id), people.get(locked.candidate_id)
        if (
            new is None
            or earlier is None
            or new.pk == earlier.pk
            or earlier.department_id != intake.department_id
            or earlier.merged_into_id is not None
            or earlier.anonymised_at is not None
        ):
            raise ValidationError("This walk-in cannot be linked to that person any more.")
        now = timezone.now()
        Intake.objects.filter(person=new).update(person=earlier, updated_at=now)
        Consent.objects.filter(person=new).update(person=earlier)
        # The other apps' rows naming the person (a disclosure's accounting: intake.records).
        for model in person_record_models():
            if model.person_record.via == "person":
                model.objects.filter(person=new).update(person=earlier)
        for field in MERGED_PERSON_FIELDS:
            if getattr(earlier, field) in ("", None) and getattr(new, field) not in ("", None):
                setattr(earlier, field, getattr(new, field))
        earlier.full_clean()
        earlier.save()
        for field in MERGED_PERSON_FIELDS:
            setattr(new, field, Person._meta.get_field(field).get_default())
        new.merged_into = earlier
        new.save()
        Person.objects.filter(merged_into=new).update(merged_into=earlier)
        _decide(locked, status=RepeatVisitSuggestion.Status.LINKED, actor=actor, now=now)
        others = RepeatVisitSuggestion.objects.filter(
            intake=intake, status=RepeatVisitSuggestion.Status.SUGGESTED
        ).exclude(pk=locked.pk)
        for other in others.select_for_update():
            _decide(other, status=RepeatVisitSuggestion.Status.DISMISSED, actor=actor, now=now)
        naming_new = RepeatVisitSuggestion.objects.filter(candidate=new).select_for_update()
        for other in naming_new:
            if RepeatVisitSuggestion.objects.filter(intake_id=other.intake_id, candidate=earlier).exists():
                other.delete()  # the same question is already asked about the earlier person
            elif other.intake_id == intake.pk:
                other.delete()
            else:
                other.candidate = earlier
                other.save(update_fields=["candidate"])
    return locked


def _locked(intake: Intake) -> Intake:
    return Intake.objects.select_for_update().get(pk=intake.pk)


def intake_transition(
    *, intake: Intake, to_status: str, actor: User | None, now: datetime | None = None
) -> Intake:
    """Move an open intake along the workflow. Locks the row; records the event.

    Back to waiting (the companion dropped out: ``volunteers.paging.services.companion_release``) asks
    for a companion again at once, through ``companion_needed_at``; any other move means no
    companion is needed any more.
    """
    with transaction.atomic():
        locked = _locked(intake)
        if to_status not in TRANSITIONS[locked.status]:
            raise TransitionError(
                f"An intake that is {locked.get_status_display().lower()} cannot move to that state."
            )
        now = now or timezone.now()
        event = IntakeEvent(
            intake=locked, from_status=locked.status, to_status=to_status, actor=actor, at=now
        )
        locked.status = to_status
        locked.companion_needed_at = now if to_status == Status.WAITING_FOR_COMPANION else None
        locked.save(update_fields=["status", "companion_needed_at", "updated_at"])
        event.save()
    return locked


def intake_close(*, intake: Intake, actor: User, reason: str) -> Intake:
    """Close an open intake with one of the design's reasons. Locks the row.

    ``volunteers.paging.services.walk_in_close`` calls this and, in the same transaction, tells
    the volunteers still paged or on the way that they are no longer needed."""
    if reason not in Intake.CloseReason.values:
        raise TransitionError("Choose why this walk-in is being closed.")
    with transaction.atomic():
        locked = _locked(intake)
        if not locked.is_open:
            raise TransitionError("This walk-in is already closed or placed.")
        now = timezone.now()
        event = IntakeEvent(
            intake=locked,
            from_status=locked.status,
            to_status=Status.CLOSED,
            close_reason=reason,
            actor=actor,
            at=now,
        )
        locked.status = Status.CLOSED
        locked.close_reason = reason
        locked.closed_at = now
        locked.companion_needed_at = None
        locked.save(
            update_fields=["status", "close_reason", "closed_at", "companion_needed_at", "updated_at"]
        )
        event.save()
    return locked


def intake_update_details(
    *,
    intake: Intake,
    actor: User,
    person_data: dict[str, Any],
    intake_data: dict[str, Any],
    guardian_consent: bool = False,
) -> Intake:
    """Complete or correct the record after the first two minutes at the desk.

    A corrected date of birth or age can show that the person is under 18: the intake is then
    marked so, and a guardian's consent (``guardian_consent`` with the guardian's name) must be
    recorded in the same save, or nothing is saved (ValidationError naming the guardian fields).
    """
    with transaction.atomic():
        locked = _locked(intake)
        person = Person.objects.select_for_update().get(pk=locked.person_id)
        for field, value in person_data.items():
            setattr(person, field, value)
        person.full_clean()
        person.save()
        for field, value in intake_data.items():
            setattr(locked, field, value)
        age = person.age_on(locked.arrived_at.date())
        if age is not None and age < ADULT_AGE:
            locked.under_18 = True
        needs_guardian = locked.under_18 and locked.close_reason != Intake.CloseReason.MEDICAL_TRANSFER
        if needs_guardian and locked.guardian_consent_at is None:
            if not (guardian_consent and locked.guardian_name and locked.guardian_relationship):
                raise ValidationError(
                    {
                        "guardian_name": "This person is under 18: record a parent or guardian's "
                        "name, relationship and consent before saving."
                    }
                )
            locked.guardian_consent_at = timezone.now()
        locked.full_clean(exclude=["person", "logged_by", "department"])
        locked.save()
    return locked


def intake_update_by_companion(
    *, intake: Intake, actor: User, first_name: str, companion_language: str, needs: str
) -> Intake:
    """The companion's corrections, and nothing more (minimum necessary): the first name the
    person goes by, the language to speak with them, what they need. Locks the intake, then the
    person. The caller has checked that ``actor`` is the intake's companion."""
    with transaction.atomic():
        locked = _locked(intake)
        person = Person.objects.select_for_update().get(pk=locked.person_id)
        person.first_name = first_name
        person.full_clean()
        person.save(update_fields=["first_name", "updated_at"])
        locked.companion_language = companion_language
        locked.needs = needs
        locked.full_clean(exclude=["person", "logged_by", "department"])
        locked.save(update_fields=["companion_language", "needs", "updated_at"])
    return locked


def consent_record(*, intake: Intake, actor: User, data: dict[str, Any]) -> Consent:
    """Record a 42 CFR 2.31 consent the person (or their guardian) read and signed."""
    with transaction.atomic():
        consent = Consent(
            department=intake.department, person=intake.person, intake=intake, recorded_by=actor, **data
        )
        consent.signed_at = timezone.now()
        consent.full_clean()
        consent.save()
    return consent


def consent_revoke(*, consent: Consent, actor: User, note: str = "") -> Consent:
    """Revoke a consent from now on. Revoking twice is refused."""
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.revoked_at is not None:
            raise ValidationError("This consent was already revoked.")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revocation_note = note
        locked.save(update_fields=["revoked_at", "revoked_by", "revocation_note"])
    return locked
