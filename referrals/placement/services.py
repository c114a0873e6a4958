"""Placement's writes (docs/design.md "Workflow and states"): calls to facilities, the bed, the
ride, admission; disclosures to facilities under a consent (42 CFR 2.31, 2.32); follow-ups
after admission and their reminders.

Every service is atomic, takes keyword-only arguments, and its docstring names the rows it
locks and what else it does. Who may call each is decided by ``referrals.placement.selectors``
(the views ask it first).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Membership, Role, User
from intake.models import Consent, Intake
from intake.services import intake_transition
from notifications.models import Notification
from notifications.services import notification_enqueue
from referrals.directory.models import Facility, LevelOfCare
from volunteers.paging.services import paging_stop

from .models import Disclosure, FollowUp, Placement, PlacementAttempt
from .selectors import _due_condition, disclosure_allowed, local_today

Status = Intake.Status

# A phone's clock or a typed minute may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=5)


# --- placement services -----------------------------------------------------------------------


def _lock_intake(intake: Intake) -> Intake:
    return Intake.objects.select_for_update(of=("self",)).select_related("department").get(pk=intake.pk)


def _check_when(
    value: datetime, *, field: str, label: str, not_before: datetime | None, now: datetime
) -> None:
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError({field: f"{label} cannot be in the future."})
    # Times are typed to the minute: the minute the person walked in counts as after it.
    if not_before is not None and value < not_before.replace(second=0, microsecond=0):
        raise ValidationError({field: f"{label} cannot be before the person walked in."})


def placement_attempt_record(
    *,
    intake: Intake,
    actor: User,
    facility: Facility,
    outcome: str,
    attempted_at: datetime | None = None,
    note: str = "",
) -> PlacementAttempt:
    """Record one call to a facility and its outcome, for an open walk-in.

    Locks the intake row. Once the companion has arrived the first attempt moves the intake to
    ``searching_placement`` (an IntakeEvent, through ``intake_transition``). Earlier on —
    waiting for a companion, or one on the way — the status stays: moving on would stop the
    paging, make open pages impossible to accept and silence the late-companion alerts, and the
    person still wants a companion. The search shows on the placement panel either way.
    Raises ValidationError for a closed or placed walk-in, an unknown outcome, an inactive
    facility, or a time in the future or before the walk-in.
    """
    now = timezone.now()
    attempted_at = attempted_at or now
    if outcome not in PlacementAttempt.Outcome.values:
        raise ValidationError({"outcome": "Choose what the facility said."})
    with transaction.atomic():
        locked = _lock_intake(intake)
        if not locked.is_open:
            raise ValidationError("This walk-in is already placed or closed: no more calls to record.")
        if not facility.is_active:
            raise ValidationError({"facility": "That facility is no longer in the directory."})
        _check_when(
            attempted_at, field="attempted_at", label="The call", not_before=locked.arrived_at, now=now
        )
        attempt = PlacementAttempt(
            department=locked.department,
            intake=locked,
            facility=facility,
            attempted_at=attempted_at,
            attempted_by=actor,
            outcome=outcome,
            note=note,
        )
        attempt.full_clean(exclude=["department", "intake", "facility", "attempted_by"])
        attempt.save()
        if locked.status == Status.COMPANION_ARRIVED:
            intake_transition(intake=locked, to_status=Status.SEARCHING_PLACEMENT, actor=actor, now=now)
    return attempt


def placement_record(
    *,
    intake: Intake,
    actor: User,
    facility: Facility,
    level_of_care: str,
    bed_held_until: datetime | None = None,
) -> Placement:
    """Record where the person is going, and move the walk-in to ``placed``.

    Locks the intake row; one placement per intake (the one-to-one column makes a second
    impossible even without the lock). The move is recorded through ``intake_transition``:
    to ``searching_placement`` first if the search had not formally begun, then ``placed``.
    Placing someone still waiting for a companion stops the paging and tells the volunteers
    still paged that they are no longer needed (``volunteers.paging.services.paging_stop``).
    Raises ValidationError for a closed or already placed walk-in or an unknown level of care.
    """
    if level_of_care not in LevelOfCare.values:
        raise ValidationError({"level_of_care": "Choose the level of care."})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_intake(intake)
        if Placement.objects.filter(intake=locked).exists():
            raise ValidationError("This walk-in already has a placement.")
        if not locked.is_open:
            raise ValidationError("This walk-in is closed: it cannot be placed.")
        if not facility.is_active:
            raise ValidationError({"facility": "That facility is no longer in the directory."})
        if bed_held_until is not None and bed_held_until < locked.arrived_at:
            raise ValidationError({"bed_held_until": "The bed cannot be held until before the walk-in."})
        if locked.status == Status.WAITING_FOR_COMPANION:
            paging_stop(intake=locked, actor=actor, now=now)
        if locked.status != Status.SEARCHING_PLACEMENT:
            locked = intake_transition(
                intake=locked, to_status=Status.SEARCHING_PLACEMENT, actor=actor, now=now
            )
        intake_transition(intake=locked, to_status=Status.PLACED, actor=actor, now=now)
        placement = Placement.objects.create(
            department=locked.department,
            intake=locked,
            facility=facility,
            level_of_care=level_of_care,
            bed_held_until=bed_held_until,
            placed_at=now,
            placed_by=actor,
        )
    return placement


def placement_transport_update(
    *,
    placement: Placement,
    actor: User,
    mode: str,
    by: str = "",
    departed_at: datetime | None = None,
    arrived_at: datetime | None = None,
) -> Placement:
    """Record how the person gets to the facility: mode, who drives, departure and arrival.

    Locks the placement row. An arrival needs a departure and comes after it (also a database
    constraint); neither may be in the future or before the walk-in. Raises ValidationError.
    """
    if mode not in Placement.Transport.values:
        raise ValidationError({"transport_mode": "Choose how the person is getting there."})
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Placement.objects.select_for_update(of=("self",)).select_related("intake").get(pk=placement.pk)
        )
        not_before = locked.intake.arrived_at
        if departed_at is not None:
            _check_when(
                departed_at, field="departed_at", label="The departure", not_before=not_before, now=now
            )
        if arrived_at is not None:
            if departed_at is None:
                raise ValidationError({"departed_at": "Record when they left before when they arrived."})
            if arrived_at < departed_at:
                raise ValidationError({"arrived_at": "The arrival cannot be before the departure."})
            _check_when(arrived_at, field="arrived_at", label="The arrival", not_before=not_before, now=now)
        locked.transport_mode = mode
        locked.transport_by = by
        locked.departed_at = departed_at
        locked.arrived_at = arrived_at
        locked.full_clean(exclude=["department", "intake", "facility", "placed_by", "admission_confirmed_by"])
        locked.save(update_fields=["transport_mode", "transport_by", "departed_at", "arrived_at"])
    return locked


def follow_up_responsible_for(*, placement: Placement, confirmed_by: User) -> User | None:
    """Who is reminded of a placement's follow-ups: the coordinator who confirmed the admission;
    if the companion confirmed it, the coordinator who recorded the placement; otherwise the
    department's longest-serving active coordinator. None when the department has none (then
    every coordinator it gets later is reminded: see ``follow_up_reminders``)."""
    coordinators = Membership.objects.filter(
        department_id=placement.department_id, role=Role.COORDINATOR, user__is_active=True
    )
    for candidate in (confirmed_by, placement.placed_by):
        if coordinators.filter(user=candidate).exists():
            return candidate
    first = coordinators.select_related("user").order_by("created_at", "pk").first()
    return first.user if first else None


def follow_ups_schedule(*, placement: Placement, responsible: User | None) -> list[FollowUp]:
    """Create the follow-ups of an admitted placement, one per day offset in the department's
    ``follow_up_days``: due on the admission's date in the department's time zone plus N days.

    Idempotent: offsets already scheduled are left as they are (the unique constraint
    ``followup_once_per_offset`` with ON CONFLICT DO NOTHING), so it is safe to call twice or
    concurrently. Returns every follow-up of the intake.
    """
    if placement.admitted_at is None:
        raise ValidationError("Follow-ups are scheduled once the admission is confirmed.")
    department = Department.objects.get(pk=placement.department_id)
    admitted_on = timezone.localdate(placement.admitted_at, timezone=department.tzinfo)
    with transaction.atomic():
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    department=department,
                    intake_id=placement.intake_id,
                    days_after_admission=days,
                    due_on=admitted_on + timedelta(days=days),
                    responsible=responsible,
                )
                for days in sorted(set(department.follow_up_days))
            ],
            ignore_conflicts=True,
        )
    return list(FollowUp.objects.filter(intake_id=placement.intake_id).order_by("due_on", "pk"))


def placement_admission_confirm(
    *, placement: Placement, actor: User, admitted_at: datetime | None = None
) -> Placement:
    """The facility confirmed the admission: record when and by whom, and schedule follow-ups.

    Locks the placement row. Confirming again changes nothing (the first confirmation stands)
    and schedules no duplicate follow-ups. The follow-ups' responsible coordinator is chosen by
    ``follow_up_responsible_for``. Raises ValidationError for a time in the future or before the
    walk-in or the departure.
    """
    now = timezone.now()
    admitted_at = admitted_at or now
    with transaction.atomic():
        locked = (
            Placement.objects.select_for_update(of=("self",)).select_related("intake").get(pk=placement.pk)
        )
        if locked.admitted_at is None:
            _check_when(
                admitted_at,
                field="admitted_at",
                label="The admission",
                not_before=locked.intake.arrived_at,
                now=now,
            )
            if locked.departed_at is not None and admitted_at < locked.departed_at:
                raise ValidationError({"admitted_at": "The admission cannot be before the departure."})
            locked.admitted_at = admitted_at
            locked.admission_confirmed_by = actor
            locked.save(update_fields=["admitted_at", "admission_confirmed_by"])
        follow_ups_schedule(
            placement=locked,
            responsible=follow_up_responsible_for(
                placement=locked, confirmed_by=locked.admission_confirmed_by
            ),
        )
    return locked


NO_CONSENT_MESSAGE = (
    "Nothing was shared: no valid consent of this person covers {recipient}. Record a consent that "
    "names it (or the treatment programs the program refers them to) first."
)


def disclosure_record(
    *,
    intake: Intake,
    facility: Facility,
    information: str,
    purpose: str,
    actor: User,
    items: list[str] | tuple[str, ...] = (),
) -> Disclosure:
    """Record a disclosure of the intake's person to a facility, if a consent allows it.

    Every disclosure goes through here. Locks the person's consents (``consent_revoke`` locks the
    same rows), so a revocation either lands first and the disclosure is refused, or after.
    The decision is ``disclosure_allowed`` on today's date in the department's time zone. The
    record names the recipient, when, what (``items``: the sheet's keys; ``information``: its text,
    stored encrypted), why and which consent, and carries the 42 CFR 2.32
    notice that must accompany the information. Raises ValidationError (nothing written) when no
    valid consent covers the facility, or when there is nothing to disclose.
    """
    if not information.strip():
        raise ValidationError("Choose what to share.")
    if not purpose.strip():
        raise ValidationError({"purpose": "Say why the information is shared."})
    department = intake.department
    today = local_today(department)
    with transaction.atomic():
        list(Consent.objects.select_for_update().filter(person_id=intake.person_id).values_list("pk"))
        consent = disclosure_allowed(intake=intake, facility_or_recipient=facility, on_date=today)
        if consent is None:
            raise ValidationError(NO_CONSENT_MESSAGE.format(recipient=facility.name), code="no_consent")
        disclosure = Disclosure(
            department=department,
            person_id=intake.person_id,
            intake=intake,
            consent=consent,
            facility=facility,
            recipient=facility.name,
            information=information,
            items=list(items),
            purpose=purpose,
            disclosed_at=timezone.now(),
            disclosed_by=actor,
        )
        disclosure.full_clean(
            exclude=["department", "person", "intake", "consent", "facility", "disclosed_by"]
        )
        disclosure.save()
    return disclosure


# --- follow-ups -------------------------------------------------------------------------------


def follow_up_record(
    *, follow_up: FollowUp, actor: User, outcome: str, note: str = "", completed_at: datetime | None = None
) -> FollowUp:
    """Record a follow-up's outcome. Locks the row; a follow-up is recorded once.

    When the outcome is ``deceased`` the person's later open follow-ups are closed with the same
    outcome (noted as such), so nobody is reminded to call about someone who has died.
    Raises ValidationError for an unknown outcome, a time in the future or before the admission,
    or a follow-up already recorded.
    """
    if outcome not in FollowUp.Outcome.values:
        raise ValidationError({"outcome": "Choose the outcome."})
    now = timezone.now()
    completed_at = completed_at or now
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update(of=("self",)).get(pk=follow_up.pk)
        if locked.completed_at is not None:
            raise ValidationError("This follow-up was already recorded.")
        admitted_at = (
            Placement.objects.filter(intake_id=locked.intake_id).values_list("admitted_at", flat=True).first()
        )
        if completed_at > now + FUTURE_TOLERANCE:
            raise ValidationError({"completed_at": "The follow-up cannot be in the future."})
        if admitted_at is not None and completed_at < admitted_at:
            raise ValidationError({"completed_at": "The follow-up cannot be before the admission."})
        locked.outcome = outcome
        locked.note = note
        locked.completed_at = completed_at
        locked.completed_by = actor
        locked.full_clean(exclude=["department", "intake", "responsible", "completed_by"])
        locked.save(update_fields=["outcome", "note", "completed_at", "completed_by"])
        if outcome == FollowUp.Outcome.DECEASED:
            FollowUp.objects.filter(
                intake_id=locked.intake_id, completed_at__isnull=True, due_on__gt=locked.due_on
            ).update(
                outcome=FollowUp.Outcome.DECEASED,
                note=f"Recorded as deceased at the +{locked.days_after_admission} days follow-up.",
                completed_at=completed_at,
                completed_by=actor,
            )
    return locked


def _station_phrase(names: list[str]) -> str:
    """The station named in a reminder: one department, two, or how many."""
    names = sorted(set(names))
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{len(names)} departments"


def follow_up_reminders(*, now: datetime | None = None) -> int:
    """Remind coordinators of due and overdue follow-ups: one message per coordinator per day.

    Claims the open follow-ups due on or before today (each department's own date) and not yet
    reminded today with SELECT … FOR UPDATE SKIP LOCKED, so two beat or worker hosts never both
    take a row; marks them ``last_reminded_on`` = today. A follow-up is for its responsible
    coordinator while they are still an active coordinator of its department, otherwise for every
    active coordinator of the department; rows with nobody to remind stay unmarked. Each
    coordinator gets one FOLLOW_UPS_DUE message (text if they have a phone, and email) whose
    idempotency key names them and the day: running again the same day sends nothing. The
    message carries the department's name and a count only. Returns the messages written.
    """
    now = now or timezone.now()
    written = 0
    with transaction.atomic():
        claimed = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due_condition(department_ids=None, now=now, unreminded=True))
            .select_related("department")
            .order_by("pk")
        )
        if not claimed:
            return 0
        coordinators: dict[int, set[int]] = defaultdict(set)
        for department_id, user_id in Membership.objects.filter(
            department_id__in={f.department_id for f in claimed}, role=Role.COORDINATOR, user__is_active=True
        ).values_list("department_id", "user_id"):
            coordinators[department_id].add(user_id)

        due_for: dict[int, list[FollowUp]] = defaultdict(list)
        reminded: list[FollowUp] = []
        for follow_up in claimed:
            department_coordinators = coordinators[follow_up.department_id]
            if follow_up.responsible_id in department_coordinators:
                recipients = {follow_up.responsible_id}
            else:
                recipients = department_coordinators
            for user_id in recipients:
                due_for[user_id].append(follow_up)
            if recipients:
                reminded.append(follow_up)

        users = User.objects.in_bulk(list(due_for))
        for user_id, follow_ups in sorted(due_for.items()):
            user = users[user_id]
            department = min((f.department for f in follow_ups), key=lambda d: d.name)
            day = local_today(department, now)
            context = {
                "station": _station_phrase([f.department.name for f in follow_ups]),
                "due_count": len(follow_ups),
                "link": settings.HARBOR_SITE_URL.rstrip("/") + reverse("referrals:follow_ups"),
            }
            for channel, to in (
                (Notification.Channel.SMS, str(user.phone) if user.phone else ""),
                (Notification.Channel.EMAIL, user.email),
            ):
                if to and notification_enqueue(
                    recipient=user,
                    department=department,
                    kind=Notification.Kind.FOLLOW_UPS_DUE,
                    channel=channel,
                    to=to,
                    context=context,
                    idempotency_key=f"follow-ups-due:{user.pk}:{day.isoformat()}:{channel}",
                ):
                    written += 1

        by_day: dict[date, list[int]] = defaultdict(list)
        for follow_up in reminded:
            by_day[local_today(follow_up.department, now)].append(follow_up.pk)
        for day, ids in by_day.items():
            FollowUp.objects.filter(pk__in=ids).update(last_reminded_on=day)
    return written
