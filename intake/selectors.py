"""Reads of intakes, and the one place that decides who may see which intake.

42 CFR Part 2 and docs/design.md "Privacy and law": desk officers see only the walk-ins they
logged themselves, for a short window (``HARBOR_OFFICER_WINDOW``), and cannot search or
browse, nor learn whether a person is already known (repeat visits are suggested to coordinators
only, after the walk-in is saved); coordinators see every intake of their departments; a
companion sees only the minimum of the intake they are assigned to, while the assignment is open
(``companion_intake_ids``).
"""

from __future__ import annotations

import unicodedata
from uuid import UUID

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Department, Role, User
from accounts.selectors import department_ids_for_role
from notifications.models import Notification

from .models import Consent, Intake, MatchReason, Person, RepeatVisitSuggestion


def officer_window_start():
    return timezone.now() - settings.HARBOR_OFFICER_WINDOW


def intakes_visible_to(*, user: User, with_companion: bool = False) -> QuerySet[Intake]:
    """Every intake ``user`` may open: a coordinator, those of their departments; a desk officer,
    those they logged within their window (``officer_window_q``); with ``with_companion``, also
    those of which they are the companion (``companion_intake_ids``: the assignment and
    placement pages, never the full record). Anything else must answer 404."""
    if not user.is_authenticated:
        return Intake.objects.none()
    coordinator_departments = department_ids_for_role(user=user, role=Role.COORDINATOR)
    officer_departments = department_ids_for_role(user=user, role=Role.DESK_OFFICER)
    visible = Q(pk__in=[])
    if coordinator_departments:
        visible |= Q(department_id__in=coordinator_departments)
    if officer_departments:
        visible |= Q(
            officer_window_q(user=user),
            department_id__in=officer_departments,
        )
    if with_companion:
        visible |= Q(pk__in=companion_intake_ids(user=user))
    return Intake.objects.filter(visible)


def officer_window_q(*, user: User) -> Q:
    """The officer's own walk-ins of the last ``HARBOR_OFFICER_WINDOW``, except one a coordinator
    linked to an earlier visit: its person record is then the earlier visit's, which the desk
    must never see (its last name, phone, member id, emergency contact)."""
    return Q(logged_by=user, created_at__gte=officer_window_start()) & ~Q(
        pk__in=RepeatVisitSuggestion.objects.filter(status=RepeatVisitSuggestion.Status.LINKED).values(
            "intake_id"
        )
    )


def intake_get_for_user(*, user: User, intake_id: UUID, with_companion: bool = False) -> Intake:
    """The intake if ``user`` may see it (``intakes_visible_to``), else 404 (never 403: its
    existence is not revealed)."""
    return get_object_or_404(
        intakes_visible_to(user=user, with_companion=with_companion).select_related(
            "person", "department", "logged_by"
        ),
        pk=intake_id,
    )


def intake_coordinated_by(*, user: User, intake: Intake) -> bool:
    """Whether ``user`` coordinates the intake's department: the coordinator's tools on a walk-in
    (the delivery log, paging by hand and volunteers' numbers, disclosures, follow-ups). Another
    role that can see the walk-in gets 403 on them."""
    return intake.department_id in department_ids_for_role(user=user, role=Role.COORDINATOR)


def intake_recordable_by(*, user: User, intake: Intake) -> bool:
    """Whether ``user`` may record on the walk-in's way to treatment (calls to facilities, the
    placement, the ride, the admission): a coordinator of its department or its companion; a desk
    officer who can see the walk-in cannot."""
    return (
        intake_coordinated_by(user=user, intake=intake)
        or companion_intake_ids(user=user).filter(pk=intake.pk).exists()
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
        Intake.objects.filter(officer_window_q(user=user), department_id__in=officer_departments)
        .select_related("person", "department")
        .order_by("-arrived_at")
    )


# The coordinators' messages paging writes when nobody can be paged for a walk-in (its stall
# check, volunteers.paging.services). Notifications sits below intake, so it is imported.
STALL_NOTIFICATION_KINDS = (Notification.Kind.NOBODY_LEFT, Notification.Kind.NOBODY_FITS)


def with_paging_stalled(intakes: QuerySet[Intake], *, now=None) -> QuerySet[Intake]:
    """Annotate ``nobody_can_be_paged``: waiting for a companion with paging on, no page open,
    and the coordinators called because nobody is left to page. Two EXISTS, no extra query."""
    now = now or timezone.now()
    open_offers = Intake.offers.rel.related_model.objects.filter(
        intake=OuterRef("pk"), status="pending", expires_at__gt=now
    )
    stalls = Notification.objects.filter(intake=OuterRef("pk"), kind__in=STALL_NOTIFICATION_KINDS)
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


def normalise_name(name: str) -> str:
    """A name as compared for repeat visits: case and accents ignored, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def repeat_visit_candidates(*, intake: Intake) -> list[tuple[Person, list[str]]]:
    """People already known to the walk-in's department who may be the same person, each with
    the reasons (``MatchReason`` values) it matched. The one matcher: extend it here.

    Today: the exact first name (ignoring case and accents) and the same date of birth (an
    indexed lookup, so a handful of rows at most). People merged into another record, or
    anonymised, are never candidates. Run after the walk-in is saved; its results are shown
    to coordinators only (``repeat_visit_suggestions_for``), never to the desk.
    """
    person = intake.person
    wanted = normalise_name(person.first_name)
    if person.date_of_birth is None or not wanted:
        return []
    candidates = Person.objects.filter(
        department_id=intake.department_id,
        date_of_birth=person.date_of_birth,
        merged_into__isnull=True,
        anonymised_at__isnull=True,
    ).exclude(pk=person.pk)
    return [
        (candidate, [MatchReason.SAME_FIRST_NAME, MatchReason.SAME_DATE_OF_BIRTH])
        for candidate in candidates.order_by("created_at", "pk")
        if normalise_name(candidate.first_name) == wanted
    ]


def repeat_visit_suggestions_for(*, user: User, intake: Intake) -> list[RepeatVisitSuggestion]:
    """The possible earlier visits of ``intake``, for a coordinator of its department only
    (an empty list for anyone else: the desk never learns whether a person is known)."""
    if intake.department_id not in department_ids_for_role(user=user, role=Role.COORDINATOR):
        return []
    return list(
        RepeatVisitSuggestion.objects.filter(intake=intake)
        .select_related("candidate", "decided_by")
        .annotate(
            candidate_visits=Count("candidate__intakes"),
            candidate_last_visit=Max("candidate__intakes__arrived_at"),
        )
        .order_by("created_at", "pk")
    )


def repeat_visit_suggestion_get_for_coordinator(*, user: User, suggestion_id: int) -> RepeatVisitSuggestion:
    """A suggestion on a walk-in of a department ``user`` coordinates, else 404."""
    return get_object_or_404(
        RepeatVisitSuggestion.objects.select_related("intake", "candidate"),
        pk=suggestion_id,
        intake__department_id__in=department_ids_for_role(user=user, role=Role.COORDINATOR),
    )


def people_merged_into(*, person: Person) -> list:
    """The ids of the records merged into ``person`` (linked repeat visits' own records)."""
    return list(Person.objects.filter(merged_into=person).values_list("pk", flat=True))


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
    # The person's ``disclosures`` are referrals' rows, reached through their relation to the person
    # (intake sits below referrals and does not import it).
    return person.disclosures.select_related("consent", "disclosed_by")
