"""Who to page for an intake, in what order, and why (docs/design.md "Matching a companion").

Eligible volunteers pass every hard filter in SQL: active; vetted (background check current,
training done, confidentiality agreement signed); serving the intake's department; on call now
(a shift covers this moment) or opted in to "call me any time" outside their quiet hours; not
on another open assignment; speaking the person's language; of the gender the person asked for,
if they asked; not already paged for this intake.

They are then ranked by a score computed in the same query, so a department with a thousand
volunteers is still one indexed query:

    +3  lived experience of recovery
    +3  a veteran, when the person is a veteran
    +2  lives in the person's town (or the station's, when the person's is unknown)
    +1  signed up for a shift now (rather than "any time")
    -1  per assignment in the last 30 days (fairness)
    -1  per decline in the last 7 days

Ties go to the volunteer with fewer recent assignments, then to the longest-standing volunteer.
Every candidate carries its reasons, in words, for the coordinator's "why these volunteers".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from intake.models import Intake
from volunteers.models import Offer, Shift, Volunteer

FAIRNESS_WINDOW = timedelta(days=30)
DECLINE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    score: int
    reasons: list[str] = field(default_factory=list)

    @property
    def reasons_text(self) -> str:
        return "; ".join(self.reasons)


def _outside_quiet_hours(local_time) -> Q:
    """Volunteers with no quiet hours, or whose quiet hours leave ``local_time`` free (windows
    may wrap past midnight). Said positively: a negated Q over these nullable columns would make
    Django add an ``IS NULL`` test to every comparison."""
    same_day = Q(quiet_hours_start__lte=F("quiet_hours_end")) & (
        Q(quiet_hours_start__gt=local_time) | Q(quiet_hours_end__lte=local_time)
    )
    overnight = (
        Q(quiet_hours_start__gt=F("quiet_hours_end"))
        & Q(quiet_hours_start__gt=local_time)
        & Q(quiet_hours_end__lte=local_time)
    )
    return Q(quiet_hours_start__isnull=True) | Q(quiet_hours_end__isnull=True) | same_day | overnight


def eligible_volunteers(
    *, intake: Intake, now: datetime, require_on_call: bool = True
) -> QuerySet[Volunteer]:
    """Volunteers who pass every hard filter, annotated with ``on_shift``.

    ``require_on_call=False`` is for a coordinator paging someone by hand: anyone vetted and free
    in the department, on shift or not.
    """
    department = intake.department
    today = timezone.localdate(now, timezone=department.tzinfo)
    local_time = timezone.localtime(now, department.tzinfo).time()

    # Who is on shift here now, who is busy elsewhere, who was already paged: each an
    # uncorrelated set that PostgreSQL computes once and hashes, where a correlated EXISTS inside
    # the on-call OR below would be run again for every volunteer of the department.
    on_shift_here = Shift.objects.filter(department=department, starts_at__lte=now, ends_at__gt=now)
    busy = Offer.objects.filter(
        status=Offer.Status.ACCEPTED, intake__status__in=Intake.COMPANION_ENGAGED_STATUSES
    )
    already_paged = Offer.objects.filter(intake=intake)
    volunteers = (
        Volunteer.objects.vetted(on=today)
        .filter(departments=department, languages__contains=[intake.companion_language])
        .exclude(pk__in=busy.values("volunteer"))
        .exclude(pk__in=already_paged.values("volunteer"))
        .annotate(
            on_shift=ExpressionWrapper(
                Q(pk__in=on_shift_here.values("volunteer")), output_field=BooleanField()
            )
        )
    )
    if intake.companion_gender:
        volunteers = volunteers.filter(gender=intake.companion_gender)
    if require_on_call:
        volunteers = volunteers.filter(
            Q(on_shift=True) | Q(call_any_time=True) & _outside_quiet_hours(local_time)
        )
    return volunteers.select_related("user")


def rank_volunteers(
    *,
    intake: Intake,
    now: datetime | None = None,
    limit: int | None = None,
    require_on_call: bool = True,
    only: Volunteer | None = None,
) -> list[Candidate]:
    """Eligible volunteers, best first, each with the reasons for their place. ``only``: that
    volunteer's candidacy alone (a coordinator paging someone by hand), or nothing when they are
    not eligible."""
    now = now or timezone.now()
    person = intake.person
    town = (person.town or intake.department.town).strip().lower()
    person_is_veteran = bool(person.veteran)

    # Each volunteer's answers of the last weeks are joined once (one index range per volunteer,
    # offer_vol_answered_idx) and counted per volunteer, where a correlated count would be run
    # at every place it is used (the score, the order). Besides these answers, only one row per
    # volunteer is joined (their membership of this department, their account; shifts are a set,
    # not a join), so grouping by volunteer counts each answer once.
    recent_answers = FilteredRelation(
        "offers",
        condition=Q(
            offers__status__in=[Offer.Status.ACCEPTED, Offer.Status.DECLINED],
            offers__responded_at__gte=now - max(FAIRNESS_WINDOW, DECLINE_WINDOW),
        ),
    )
    ranked = (
        eligible_volunteers(intake=intake, now=now, require_on_call=require_on_call)
        .annotate(recent_answers=recent_answers)
        .annotate(
            recent_assignments=Count(
                "recent_answers",
                filter=Q(
                    recent_answers__status=Offer.Status.ACCEPTED,
                    recent_answers__responded_at__gte=now - FAIRNESS_WINDOW,
                ),
            ),
            recent_declines=Count(
                "recent_answers",
                filter=Q(
                    recent_answers__status=Offer.Status.DECLINED,
                    recent_answers__responded_at__gte=now - DECLINE_WINDOW,
                ),
            ),
            # With a town to compare, iexact alone excludes volunteers with no town.
            same_town=ExpressionWrapper(Q(home_town__iexact=town), output_field=BooleanField())
            if town
            else Value(False),
        )
        .annotate(
            score=(
                Case(When(lived_experience=True, then=Value(3)), default=Value(0))
                + (
                    Case(When(veteran=True, then=Value(3)), default=Value(0))
                    if person_is_veteran
                    else Value(0)
                )
                + Case(When(same_town=True, then=Value(2)), default=Value(0))
                + Case(When(on_shift=True, then=Value(1)), default=Value(0))
                - F("recent_assignments")
                - F("recent_declines")
            )
        )
        .order_by("-score", "recent_assignments", "created_at", "pk")
    )
    if only is not None:
        ranked = ranked.filter(pk=only.pk)
    if limit is not None:
        ranked = ranked[:limit]
    asked_for = _asked_for(intake)
    return [
        Candidate(volunteer=v, score=v.score, reasons=_reasons(v, asked_for, person_is_veteran))
        for v in ranked
    ]


def _asked_for(intake: Intake) -> list[str]:
    """The reasons every candidate shares: what the person asked for."""
    reasons = [f"speaks {intake.get_companion_language_display()}"]
    if intake.companion_gender:
        reasons.append(f"is {intake.get_companion_gender_display().lower()}, as asked")
    return reasons


def _reasons(volunteer: Volunteer, asked_for: list[str], person_is_veteran: bool) -> list[str]:
    reasons = list(asked_for)
    if volunteer.on_shift:
        reasons.append("on shift now")
    elif volunteer.call_any_time:
        reasons.append("on call any time")
    else:  # only a coordinator paging by hand reaches someone neither on shift nor on call
        reasons.append("off shift")
    if volunteer.lived_experience:
        reasons.append("lived experience of recovery")
    if volunteer.veteran and person_is_veteran:
        reasons.append("a veteran, like the person")
    if volunteer.same_town:
        reasons.append(f"lives in {volunteer.home_town}")
    n = volunteer.recent_assignments
    reasons.append(f"{n} assignment{'s' if n != 1 else ''} in 30 days")
    if volunteer.recent_declines:
        d = volunteer.recent_declines
        reasons.append(f"declined {d} time{'s' if d != 1 else ''} this week")
    return reasons
