"""Placement (docs/design.md "Workflow and states"): calls to facilities, the bed, the ride, admission;
disclosures to facilities under a consent (42 CFR 2.31, 2.32); follow-ups after admission.

Reads first (who may see and record what), then the services. Every service is atomic, takes
keyword-only arguments, and its docstring names the rows it locks and what else it does.

Who may record a placement: a coordinator of the intake's department, and the intake's assigned
companion (an accepted offer, vetted and active) while the walk-in is open, and, once placed,
until the admission is confirmed: the ride to the facility is often theirs. Desk officers who
logged the walk-in see the placement panel but record nothing (403). Disclosures and follow-ups
are coordinators' work only: the companion sees the minimum (first name, language, needs).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Membership, Role, User
from accounts.selectors import coordinator_department_ids
from intake.models import Consent, Intake, Person
from intake.selectors import companion_intake_ids, intakes_visible_to
from intake.services import intake_transition
from notifications.models import Notification
from notifications.services import notification_enqueue

from .models import Disclosure, Facility, FollowUp, LevelOfCare, Placement, PlacementAttempt

Status = Intake.Status

# A phone's clock or a typed minute may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=5)


# --- who may see and record -------------------------------------------------------------------


def intakes_for_placement(*, user: User) -> QuerySet[Intake]:
    """Intakes whose placement ``user`` may see: whoever may see the intake (coordinators of its
    department, the officer who logged it within their window) and its companion
    (``intake.selectors.companion_intake_ids``)."""
    if not user.is_authenticated:
        return Intake.objects.none()
    return Intake.objects.filter(
        Q(pk__in=intakes_visible_to(user=user).values("pk")) | Q(pk__in=companion_intake_ids(user=user))
    )


def intake_get_for_placement(*, user: User, intake_id: UUID) -> Intake:
    """The intake if ``user`` may see its placement, else 404."""
    return get_object_or_404(
        intakes_for_placement(user=user).select_related("person", "department"), pk=intake_id
    )


def is_coordinator_of(*, user: User, department_id: int) -> bool:
    return department_id in coordinator_department_ids(user=user)


def placement_recordable_by(*, user: User, intake: Intake) -> bool:
    """Coordinators of the department and the companion record attempts, the placement, the ride
    and the admission; a desk officer who can see the walk-in cannot (the view answers 403)."""
    return (
        is_coordinator_of(user=user, department_id=intake.department_id)
        or companion_intake_ids(user=user).filter(pk=intake.pk).exists()
    )


def attempts_for_intake(*, intake: Intake) -> QuerySet[PlacementAttempt]:
    return (
        PlacementAttempt.objects.filter(intake=intake)
        .select_related("facility", "attempted_by")
        .order_by("attempted_at", "pk")
    )


def placement_for_intake(*, intake: Intake) -> Placement | None:
    return (
        Placement.objects.select_related("facility", "placed_by", "admission_confirmed_by")
        .filter(intake=intake)
        .first()
    )


def disclosures_for_intake(*, intake: Intake) -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(intake=intake).select_related("facility", "consent", "disclosed_by")


def follow_ups_for_intake(*, intake: Intake) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(intake=intake).select_related("responsible", "completed_by")


def placement_panel_context(*, user: User, intake: Intake) -> dict:
    """Everything the placement panel shows, in a fixed number of queries whatever the number of
    attempts, disclosures or follow-ups. Disclosures and follow-ups are for coordinators only."""
    is_coordinator = is_coordinator_of(user=user, department_id=intake.department_id)
    return {
        "intake": intake,
        "attempts": list(attempts_for_intake(intake=intake)),
        "placement": placement_for_intake(intake=intake),
        "is_coordinator": is_coordinator,
        "can_record": is_coordinator or companion_intake_ids(user=user).filter(pk=intake.pk).exists(),
        "disclosures": list(disclosures_for_intake(intake=intake)) if is_coordinator else [],
        "follow_ups": list(follow_ups_for_intake(intake=intake)) if is_coordinator else [],
        "today": local_today(intake.department),
    }


def disclosure_get_for_user(*, user: User, disclosure_id: int) -> Disclosure:
    """A disclosure of one of the coordinator's departments, else 404."""
    return get_object_or_404(
        Disclosure.objects.select_related("department", "person", "consent", "facility", "disclosed_by"),
        pk=disclosure_id,
        department_id__in=coordinator_department_ids(user=user),
    )


def follow_up_get_for_user(*, user: User, follow_up_id: int) -> FollowUp:
    """A follow-up of one of the coordinator's departments, else 404."""
    return get_object_or_404(
        FollowUp.objects.select_related(
            "department", "intake__person", "intake__placement__facility", "responsible", "completed_by"
        ),
        pk=follow_up_id,
        department_id__in=coordinator_department_ids(user=user),
    )


def facility_for_prefill(*, value: str) -> Facility | None:
    """The active facility a query string names (``?facility=<id>``), or None for anything else."""
    if not value.isdigit() or len(value) > 18:
        return None
    return Facility.objects.filter(pk=int(value), is_active=True).first()


def local_today(department: Department, now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now(), timezone=department.tzinfo)


def _due_condition(*, department_ids: list[int] | None, now: datetime, unreminded: bool = False) -> Q:
    """Open follow-ups due on or before today, "today" being each department's own date (one
    query for the departments' time zones); ``unreminded``: and not yet reminded today."""
    departments = Department.objects.all()
    if department_ids is not None:
        departments = departments.filter(pk__in=department_ids)
    condition = Q(pk__in=[])
    for time_zone in departments.values_list("time_zone", flat=True).distinct():
        today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo(time_zone))
        in_zone = Q(department__time_zone=time_zone, due_on__lte=today)
        if unreminded:
            in_zone &= Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today)
        condition |= in_zone
    if department_ids is not None:
        condition &= Q(department_id__in=department_ids)
    return condition & Q(completed_at__isnull=True)


def follow_ups_due_for(*, user: User, now: datetime | None = None) -> QuerySet[FollowUp]:
    """Due and overdue follow-ups of the coordinator's departments, oldest first."""
    now = now or timezone.now()
    return (
        FollowUp.objects.filter(_due_condition(department_ids=coordinator_department_ids(user=user), now=now))
        .select_related("department", "intake__person", "intake__placement__facility", "responsible")
        .order_by("due_on", "pk")
    )


def follow_ups_upcoming_for(*, user: User, days: int = 14, now: datetime | None = None) -> QuerySet[FollowUp]:
    """Open follow-ups not yet due that fall due within ``days`` days, soonest first."""
    now = now or timezone.now()
    ids = coordinator_department_ids(user=user)
    return (
        FollowUp.objects.filter(
            department_id__in=ids,
            completed_at__isnull=True,
            due_on__lte=timezone.localdate(now) + timedelta(days=days),
        )
        .exclude(_due_condition(department_ids=ids, now=now))
        .select_related("department", "intake__person", "intake__placement__facility", "responsible")
        .order_by("due_on", "pk")
    )


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
    from volunteers.paging.services import paging_stop  # volunteers builds on intake, as we do

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


# --- disclosures (42 CFR 2.31 consent, 2.32 notice, 2.24 accounting) -------------------------

# The class of recipients in the program's consent wording ("Treatment programs and facilities
# the program refers me to"): a consent that names this class covers every facility Harbor refers
# to. Matched on the normalised recipients text (lower case, single spaces).
_PROVIDER = r"(?:treatment )?(?:programs?|facilit(?:y|ies)|providers?|centers?)"
CLASS_OF_REFERRAL_FACILITIES = re.compile(
    rf"\btreatment {_PROVIDER}(?:,? (?:and|or) {_PROVIDER})*,? (?:that |which )?the program refers "
    r"(?:me|them|him|her|the person|my child) to\b"
)


def _normalised(text: str) -> str:
    """Lower case, single spaces; a line break separates list items like a semicolon."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return " ".join(text.replace("\r", "").replace("\n", " ; ").split())


# Where one recipient in a list ends: the end of the text, punctuation, "and", "or".
_ITEM_END = r"(?=\s*(?:$|[,;:.()\[\]/&]|and\b|or\b))"


def consent_covers(*, consent: Consent, recipient_name: str) -> bool:
    """Whether the consent's recipients (free text, "by name or class", 42 CFR 2.31(a)(4))
    include this recipient. The rule, in full:

    1. A consent naming the class of referral facilities — "treatment programs and facilities
       the program refers me to", as the program's consent form words it (or "treatment
       facilities / programs / providers the program refers me to") — covers every facility.
    2. Otherwise it covers a recipient only if the recipient's full name is one of the names it
       lists: the name as a whole phrase (ignoring case and spacing), ending where the text or a
       list item ends (a comma, semicolon, full stop, parenthesis, slash, line break, "and",
       "or"). "Lahey Behavioral Health (Danvers)" names Lahey Behavioral Health; "Lahey
       Behavioral Health" does not name a facility called "Lahey".
    Anything else is not covered: a disclosure is refused rather than guessed at.
    """
    recipients = _normalised(consent.recipients)
    if CLASS_OF_REFERRAL_FACILITIES.search(recipients):
        return True
    name = _normalised(recipient_name)
    return bool(name) and re.search(rf"(?<!\w){re.escape(name)}{_ITEM_END}", recipients) is not None


def disclosure_allowed(
    *, intake: Intake, facility_or_recipient: Facility | str, on_date: date
) -> Consent | None:
    """The consent under which the intake's person may be disclosed to this facility (or named
    recipient) on ``on_date``, or None: the one place that decides whether a disclosure is allowed.

    A consent qualifies when it is the person's, signed on or before ``on_date``, unrevoked and
    unexpired on that day (``Consent.is_valid_on``) and its recipients cover the recipient
    (``consent_covers``). The most recently signed qualifying consent is returned.
    """
    name = (
        facility_or_recipient.name if isinstance(facility_or_recipient, Facility) else facility_or_recipient
    )
    candidates = Consent.objects.filter(person_id=intake.person_id, revoked_at__isnull=True).order_by(
        "-signed_at", "-pk"
    )
    for consent in candidates:
        signed_on = timezone.localdate(consent.signed_at, timezone=intake.department.tzinfo)
        if (
            signed_on <= on_date
            and consent.is_valid_on(on_date)
            and consent_covers(consent=consent, recipient_name=name)
        ):
            return consent
    return None


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


@dataclass(frozen=True)
class SheetItem:
    key: str
    label: str


# What a referral sheet may carry: the minimum a facility needs to take the referral.
SHEET_ITEMS = [
    SheetItem("name", "First and last name"),
    SheetItem("date_of_birth", "Date of birth (or age)"),
    SheetItem("insurance", "Insurance and member ID"),
    SheetItem("level_of_care", "Level of care needed"),
    SheetItem("phone", "Phone number"),
    SheetItem("language", "Preferred language"),
]
DEFAULT_SHEET_ITEMS = ["name", "date_of_birth", "insurance", "level_of_care"]


def referral_information(*, person: Person, items: list[str], level_of_care: str = "") -> str:
    """The referral sheet's text: one line per chosen item, exactly what is disclosed (and
    recorded as such). Nothing about substances, diagnoses or the walk-in's circumstances."""
    lines = []
    for key in [item.key for item in SHEET_ITEMS if item.key in items]:
        if key == "name":
            lines.append(f"Name: {person.first_name} {person.last_name}".rstrip())
        elif key == "date_of_birth":
            if person.date_of_birth:
                lines.append(f"Date of birth: {person.date_of_birth:%Y-%m-%d}")
            elif person.approximate_age:
                lines.append(f"Age (approximate): {person.approximate_age}")
        elif key == "insurance":
            insurance = person.get_insurance_display() if person.insurance else "Unknown"
            member = f" (member ID {person.insurance_member_id})" if person.insurance_member_id else ""
            lines.append(f"Insurance: {insurance}{member}")
        elif key == "level_of_care" and level_of_care:
            lines.append(f"Level of care needed: {LevelOfCare(level_of_care).label}")
        elif key == "phone" and person.phone:
            lines.append(f"Phone: {person.phone.as_national}")
        elif key == "language":
            lines.append(f"Preferred language: {person.get_preferred_language_display()}")
    return "\n".join(lines)


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
