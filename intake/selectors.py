"""Reads of intakes, and the one place that decides who may see which intake.

42 CFR Part 2 and docs/design.md "Privacy and law": desk officers see only the walk-ins they
logged themselves, for a short window (``HARBOR_OFFICER_WINDOW``), and cannot search or
browse; coordinators see every intake of their departments; a companion sees only the minimum of
the intake they are assigned to, while the assignment is open (``companion_intake_ids``).
"""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher
from uuid import UUID

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Department, Role, User
from accounts.selectors import department_ids_for_role

from .models import Consent, Intake, Person

# 0.75 lets one wrong or swapped letter in a four-letter name through ("Jhon", "Erik" for "Eric"),
# the commonest misspellings at a desk; candidates already share the exact date of birth, and
# the officer confirms every match, so a generous threshold costs a question, not a wrong link.
NAME_SIMILARITY_THRESHOLD = 0.75


def officer_window_start():
    return timezone.now() - settings.HARBOR_OFFICER_WINDOW


def intakes_visible_to(*, user: User) -> QuerySet[Intake]:
    """Every intake ``user`` may open. Anything else must answer 404."""
    if not user.is_authenticated:
        return Intake.objects.none()
    coordinator_departments = department_ids_for_role(user=user, role=Role.COORDINATOR)
    officer_departments = department_ids_for_role(user=user, role=Role.DESK_OFFICER)
    visible = Q(pk__in=[])
    if coordinator_departments:
        visible |= Q(department_id__in=coordinator_departments)
    if officer_departments:
        visible |= Q(
            department_id__in=officer_departments,
            logged_by=user,
            created_at__gte=officer_window_start(),
        )
    return Intake.objects.filter(visible)


def intake_get_for_user(*, user: User, intake_id: UUID) -> Intake:
    """The intake if ``user`` may see it, else 404 (never 403: its existence is not revealed)."""
    return get_object_or_404(
        intakes_visible_to(user=user).select_related("person", "department", "logged_by"),
        pk=intake_id,
    )


def companion_intake_ids(*, user: User) -> QuerySet:
    """The one definition of "the companion of this intake": intakes on which ``user`` has the
    accepted offer while the assignment is open — the walk-in still open with its companion
    engaged, or placed and the admission not yet confirmed (the companion may be on the ride) —
    and their volunteer record is active and vetted. The assignment page, the placement pages and
    the companion's details form all ask this.

    Paging and referrals build on intake, so offers, volunteers and the placement are reached
    through the intake's relations (``Intake.offers``, ``Intake.placement``), not imported."""
    offer_model = Intake.offers.rel.related_model
    volunteer_model = offer_model._meta.get_field("volunteer").related_model
    return Intake.objects.filter(
        Q(status__in=Intake.COMPANION_ENGAGED_STATUSES)
        | Q(status=Intake.Status.PLACED, placement__admitted_at__isnull=True),
        offers__status="accepted",
        offers__volunteer__in=volunteer_model.objects.vetted(on=timezone.localdate()).filter(user=user),
    ).values("pk")


def companion_assignment_id(*, user: User, intake_id) -> int | None:
    """The id of ``user``'s accepted offer (their assignment) on the intake, if any."""
    return (
        Intake.offers.rel.related_model.objects.filter(
            intake_id=intake_id, volunteer__user=user, status="accepted"
        )
        .values_list("pk", flat=True)
        .first()
    )


def intakes_editable_by(*, user: User) -> QuerySet[Intake]:
    """Who may open the full record to complete it: whoever may see the intake (a coordinator of
    its department, the officer who logged it within their window). The companion does not: they
    correct only the minimum necessary (first name, language, needs), through their assignment."""
    return intakes_visible_to(user=user)


def intake_get_for_editing(*, user: User, intake_id: UUID) -> Intake:
    return get_object_or_404(
        intakes_editable_by(user=user).select_related("person", "department", "logged_by"), pk=intake_id
    )


def officer_recent_intakes(*, user: User) -> QuerySet[Intake]:
    """The desk officer's own walk-ins within the window, newest first, each annotated with
    ``nobody_can_be_paged`` (``with_paging_stalled``)."""
    officer_departments = department_ids_for_role(user=user, role=Role.DESK_OFFICER)
    return with_paging_stalled(
        Intake.objects.filter(
            department_id__in=officer_departments,
            logged_by=user,
            created_at__gte=officer_window_start(),
        )
        .select_related("person", "department")
        .order_by("-arrived_at")
    )


# The coordinators' messages paging writes when nobody can be paged for a walk-in (its stall
# check, volunteers.paging.services): reached through the intake's relations, not imported.
STALL_NOTIFICATION_KINDS = ("nobody_left", "nobody_fits")


def with_paging_stalled(intakes: QuerySet[Intake], *, now=None) -> QuerySet[Intake]:
    """Annotate ``nobody_can_be_paged``: waiting for a companion with paging on, no page open,
    and the coordinators called because nobody is left to page. Two EXISTS, no extra query."""
    now = now or timezone.now()
    open_offers = Intake.offers.rel.related_model.objects.filter(
        intake=OuterRef("pk"), status="pending", expires_at__gt=now
    )
    stalls = Intake.notifications.rel.related_model.objects.filter(
        intake=OuterRef("pk"), kind__in=STALL_NOTIFICATION_KINDS
    )
    return intakes.annotate(
        nobody_can_be_paged=ExpressionWrapper(
            Q(status=Intake.Status.WAITING_FOR_COMPANION, companion_needed_at__isnull=False)
            & ~Q(Exists(open_offers))
            & Q(Exists(stalls)),
            output_field=BooleanField(),
        )
    )


def intake_nobody_can_be_paged(*, intake: Intake) -> bool:
    return bool(
        with_paging_stalled(Intake.objects.filter(pk=intake.pk))
        .values_list("nobody_can_be_paged", flat=True)
        .first()
    )


def coordinator_intakes(*, user: User, status: str = "") -> QuerySet[Intake]:
    intakes = Intake.objects.filter(
        department_id__in=department_ids_for_role(user=user, role=Role.COORDINATOR)
    ).select_related("person", "department", "logged_by")
    if status == "open":
        intakes = intakes.filter(status__in=Intake.OPEN_STATUSES)
    elif status:
        intakes = intakes.filter(status=status)
    return intakes.order_by("-arrived_at")


def departments_for_walk_ins(*, user: User) -> QuerySet[Department]:
    """Departments in which ``user`` may log a walk-in (desk officers and coordinators)."""
    return Department.objects.filter(
        memberships__user=user, memberships__role__in=[Role.DESK_OFFICER, Role.COORDINATOR]
    ).distinct()


def _normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def names_are_similar(a: str, b: str) -> bool:
    a, b = _normalise(a), _normalise(b)
    if not a or not b:
        return False
    if a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a))):
        return True
    return SequenceMatcher(None, a, b).ratio() >= NAME_SIMILARITY_THRESHOLD


def people_matching(
    *, department: Department, first_name: str, last_name: str, date_of_birth
) -> list[Person]:
    """People already known to the department with the same date of birth and a similar name.

    Candidates share the exact date of birth (an indexed lookup, so a handful of rows at most);
    names are compared in Python, forgiving accents, case and small misspellings.
    """
    if date_of_birth is None:
        return []
    candidates = Person.objects.filter(department=department, date_of_birth=date_of_birth)
    matches = []
    for person in candidates:
        first_ok = names_are_similar(person.first_name, first_name)
        last_ok = not (person.last_name and last_name) or names_are_similar(person.last_name, last_name)
        if first_ok and last_ok:
            matches.append(person)
    return matches


def consents_of(*, person: Person) -> QuerySet[Consent]:
    return Consent.objects.filter(person=person).select_related("recorded_by", "revoked_by")


def person_has_valid_consent(*, person: Person) -> bool:
    today = timezone.localdate()
    return (
        Consent.objects.filter(person=person, revoked_at__isnull=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .exists()
    )


def consent_get_for_user(*, user: User, consent_id: UUID) -> Consent:
    """A consent recorded at an intake the user may see, else 404."""
    return get_object_or_404(
        Consent.objects.select_related("person", "intake").filter(intake__in=intakes_visible_to(user=user)),
        pk=consent_id,
    )


def person_get_for_coordinator(*, user: User, person_id: UUID) -> Person:
    """The person if ``user`` coordinates their department, else 404 (for every other role too:
    the accounting of a person's disclosures and accesses is a coordinator's record)."""
    return get_object_or_404(
        Person.objects.select_related("department"),
        pk=person_id,
        department_id__in=department_ids_for_role(user=user, role=Role.COORDINATOR),
    )


def disclosures_of(*, person: Person) -> QuerySet:
    """Everything shared about the person outside the program (42 CFR 2.24), newest first."""
    from referrals.models import Disclosure  # referrals builds on intake

    return Disclosure.objects.filter(person=person).select_related("consent", "disclosed_by")
