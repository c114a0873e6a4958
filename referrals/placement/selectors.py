"""Placement's reads (docs/design.md "Workflow and states"): who may see and record a walk-in's
placement, its calls, disclosures and follow-ups; whether a consent covers a disclosure
(42 CFR 2.31, 2.32); what the referral sheet may say.

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Department, User
from accounts.selectors import coordinator_department_ids
from intake.models import Consent, Intake, Person
from intake.selectors import intake_coordinated_by, intake_recordable_by
from referrals.directory.models import Facility, LevelOfCare

from .models import Disclosure, FollowUp, Placement, PlacementAttempt

# --- who may see and record -------------------------------------------------------------------


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
    is_coordinator = intake_coordinated_by(user=user, intake=intake)
    return {
        "intake": intake,
        "attempts": list(attempts_for_intake(intake=intake)),
        "placement": placement_for_intake(intake=intake),
        "is_coordinator": is_coordinator,
        "can_record": intake_recordable_by(user=user, intake=intake),
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
