"""The coordinator's program figures and the public summary: reads only, every figure an SQL
aggregate (the live board is ``referrals.board``).

Each figure is one aggregate query (or one grouped query), so a page costs the same number of
queries whatever the number of walk-ins; medians and 90th percentiles are PostgreSQL's
``percentile_cont``, computed in the database (never by fetching rows into Python).

Definitions (the figures page repeats them in words):

- A walk-in counts in a period when it arrived (``Intake.arrived_at``) between the first and the
  last day of the period, read on the clock of the first chosen department (departments are
  ordered by name; several departments in different time zones share that one clock). A walk-in
  closed as a duplicate record is not counted in any figure.
- People: distinct people among those walk-ins. Repeat visits: walk-ins whose person had an
  earlier (non-duplicate) walk-in, at any time before, in the same department.
- Placed: walk-ins with a placement (``Placement``, bed found and booked), whatever happened
  next; admitted: those whose admission was confirmed. Share placed = placed / walk-ins.
- Times from walk-in (``Intake.arrived_at``) to: companion accepted (the first status change to
  ``companion_assigned``; a companion who later dropped out still counts, it is the first
  acceptance), companion arrived (the first change to ``companion_arrived``), placed
  (``Placement.placed_at``), admitted (``Placement.admitted_at``). Each over the walk-ins that
  reached that step; median and 90th percentile are ``percentile_cont`` (linear interpolation).
- Placements by level of care and by facility, no-bed reasons (every placement attempt whose
  outcome was not "bed offered") and volunteer response (offers by their present status, and the
  time from page to acceptance) are those of the period's walk-ins.
- Weekly and monthly series count walk-ins, and those of them placed, by the week (Monday) or
  month of the walk-in.
- Roster gaps: hours in the next 7 days (from today, each department's clock) in which at some
  moment nobody vetted is on call (``volunteers.roster.department_coverage``).

The public summary (no sign-in) shows counts only, for whole calendar months that are over, and
publishes no count under ``SMALL_CELL`` (zero included): "fewer than 11" on the page, ``null``
with ``"suppressed": true`` in the JSON. Complementary suppression (``referrals.suppression``),
planned over the department's whole history, hides whatever else (a month's placements, a
month's visits, a total) would let a hidden count be worked out from this page and the earlier
ones, totals differenced month to month included. A median is published only when it rests on
at least ``SMALL_CELL`` walk-ins, and a share only when both of its counts are published.
"Since" is the month the department began using Harbor, never a date taken from a person's
record.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import dateformat, timezone

from accounts.models import Department, Role, User
from accounts.selectors import departments_for_role
from config.formats import weekday_month_day
from intake.models import Intake
from volunteers.models import Offer
from volunteers.roster.selectors import GapDay, departments_gap_days, local_moment

from .models import LevelOfCare, Placement, PlacementAttempt
from .suppression import MonthCounts, MonthPlan, plan_publication

logger = logging.getLogger(__name__)

# Program figures in the shared cache (``program_figures_cached``): a copy is kept this long, to
# be shown while a newer one is worked out (its key holds the local date: never another day's).
FIGURES_KEPT_FOR = timedelta(days=1)
# A change is counted this long after its commit at the soonest, so that the commits of one
# action (a walk-in and its first wave of pages, a placement and its follow-ups) are counted by
# one computation...
FIGURES_REFRESH_DELAY = timedelta(seconds=1)
# ...and one department's figures are computed at most this often however often its records
# change (about 100 ms of database time each for the benchmark's largest department).
FIGURES_REFRESH_EVERY = timedelta(seconds=10)
# A refresh queued and never run (its message lost with Redis, its worker killed) stops another
# from being queued this long at most; the task is dropped unrun if it waited longer.
FIGURES_REFRESH_QUEUED_FOR = timedelta(minutes=2)

# Reports publish no count under this (docs/design.md "Privacy and law").
SMALL_CELL = 11
TOP_FACILITIES = 10
ROSTER_GAP_DAYS = 7
PUBLIC_MONTHS = 12
# Walk-ins before this are not expected (nor reachable by the filters).
EARLIEST_WALK_IN = date(2000, 1, 1)

Status = Intake.Status
DUPLICATE = Intake.CloseReason.DUPLICATE


# --- SQL building blocks ----------------------------------------------------------------------


class Percentile(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: linear interpolation
    between the two nearest values, NULLs ignored; NULL over no rows."""

    name = "Percentile"
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra) -> None:
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        # A float formatted by Python, never user input: safe to inline in the SQL.
        super().__init__(expression, fraction=repr(fraction), **extra)


class Minutes(Func):
    """The length of an interval in (fractional) minutes."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 60.0)::double precision"
    output_field = FloatField()


# --- who may see what -------------------------------------------------------------------------


def dashboard_departments(*, user: User) -> list[Department]:
    """The departments whose board and figures ``user`` may see: those they coordinate. Their
    phone numbers are not loaded: parsing 200 of them was a tenth of a network board's time."""
    return list(departments_for_role(user=user, role=Role.COORDINATOR).defer("phone").order_by("name"))


def department_get_public(*, department_id: int) -> Department:
    """Any department, for its public summary (which shows aggregate counts only), else 404."""
    return get_object_or_404(Department, pk=department_id)


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end`` (both included) on the clock of ``time_zone``."""

    start: date
    end: date
    time_zone: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return local_moment(self.start, time.min, self.time_zone)

    @property
    def ends_at(self) -> datetime:
        return local_moment(self.end + timedelta(days=1), time.min, self.time_zone)


def first_of_month(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def default_period(*, departments: list[Department], now: datetime | None = None) -> Period:
    """The current month and the eleven before it, up to today."""
    tz = departments[0].tzinfo
    today = timezone.localdate(now or timezone.now(), tz)
    return Period(start=first_of_month(today, 11), end=today, time_zone=tz)


def _walk_ins_q(*, department_ids: list[int], period: Period, prefix: str = "") -> Q:
    """The walk-ins of ``period`` (``prefix`` reaches the intake from a related model)."""
    return Q(
        **{
            f"{prefix}department_id__in": department_ids,
            f"{prefix}arrived_at__gte": period.starts_at,
            f"{prefix}arrived_at__lt": period.ends_at,
        }
    ) & ~Q(**{f"{prefix}close_reason": DUPLICATE})


def _of_walk_ins_q(*, department_ids: list[int], period: Period) -> Q:
    """Rows of the period's walk-ins (a placement, a call to a facility, an offer), named by
    their own department as well as by their walk-in's.

    Such a row always belongs to its walk-in's department (the services copy it from the
    intake). Naming it on the row's own indexed column lets PostgreSQL read one department's
    rows through that index. Joined on the walk-in alone, one department's figures hashed the
    whole of each table (127,000 placements, 300,000 calls at the benchmark's size) or scanned
    every walk-in in parallel, because at the default ``random_page_cost`` (4, for disks) a
    department's 1,200 index lookups look dearer to PostgreSQL than one sequential scan: 30 to
    60 ms a query instead of 2 to 10 (bench/NOTES.md). For a whole network the condition keeps
    every row and the plans are those of a join on the walk-in.
    """
    return Q(department_id__in=department_ids) & _walk_ins_q(
        department_ids=department_ids, period=period, prefix="intake__"
    )


def _walk_ins(*, department_ids: list[int], period: Period) -> QuerySet[Intake]:
    """The period's walk-ins, with ``department_placement``: the walk-in's placement, joined
    on its department too (see ``_of_walk_ins_q``)."""
    return Intake.objects.filter(_walk_ins_q(department_ids=department_ids, period=period)).alias(
        department_placement=FilteredRelation(
            "placement", condition=Q(placement__department_id__in=department_ids)
        )
    )


# --- program figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationFigure:
    key: str
    label: str
    cases: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class VolunteerResponse:
    offers: int
    accepted: int
    declined: int
    expired: int
    withdrawn: int
    pending: int
    median_minutes_to_accept: float | None
    p90_minutes_to_accept: float | None

    @property
    def answered(self) -> int:
        return self.accepted + self.declined

    @property
    def accept_percent(self) -> float | None:
        return _percent(self.accepted / self.offers) if self.offers else None


@dataclass(frozen=True)
class SeriesPoint:
    starts_on: date
    walk_ins: int
    placed: int
    people: int = 0
    new_people: int = 0


@dataclass(frozen=True)
class RosterGaps:
    department: Department
    days: list[GapDay]

    @property
    def gap_hours(self) -> int:
        return sum(day.gap_hours for day in self.days)

    @property
    def days_with_gaps(self) -> list[GapDay]:
        return [day for day in self.days if day.gap_hours]

    @property
    def summary(self) -> str:
        """The days with gaps in one line, as "Mon Nov 3: 5 h; Tue Nov 4: 2 h", or "" when every
        hour is covered (a network's figures show 200 such lines)."""
        return "; ".join(f"{weekday_month_day(day.day)}: {day.gap_hours} h" for day in self.days_with_gaps)


@dataclass(frozen=True)
class ProgramFigures:
    departments: list[Department]
    period: Period
    walk_ins: int
    people: int
    repeat_visits: int
    placed: int
    admitted: int
    durations: list[DurationFigure]
    by_level_of_care: list[tuple[str, str, int]]
    by_facility: list[tuple[str, int]]
    no_bed_reasons: list[tuple[str, str, int]]
    volunteer_response: VolunteerResponse
    weekly: list[SeriesPoint]
    monthly: list[SeriesPoint]
    roster_gaps: list[RosterGaps] = field(default_factory=list)
    computed_at: datetime | None = None

    @property
    def share_placed(self) -> float | None:
        return self.placed / self.walk_ins if self.walk_ins else None

    @property
    def share_admitted(self) -> float | None:
        return self.admitted / self.walk_ins if self.walk_ins else None

    @property
    def share_placed_percent(self) -> float | None:
        return _percent(self.share_placed)

    @property
    def share_admitted_percent(self) -> float | None:
        return _percent(self.share_admitted)

    @property
    def first_time_visits(self) -> int:
        return self.walk_ins - self.repeat_visits

    @property
    def department_names(self) -> str:
        """The departments' names, comma-separated (one template lookup for a network's 200)."""
        return ", ".join(department.name for department in self.departments)

    @property
    def time_zone_differs(self) -> bool:
        """True when the chosen departments do not all keep the same clock."""
        return len({department.time_zone for department in self.departments}) > 1


DURATIONS = [
    ("companion_accepted", "Walk-in → companion accepted"),
    ("companion_arrived", "Walk-in → companion arrived"),
    ("placed", "Walk-in → placement found"),
    ("admitted", "Walk-in → admission confirmed"),
]


def _duration_expressions() -> dict[str, Minutes]:
    return {
        "companion_accepted": Minutes(F("accepted_at") - F("arrived_at")),
        "companion_arrived": Minutes(F("companion_arrived_at") - F("arrived_at")),
        "placed": Minutes(F("placed_at") - F("arrived_at")),
        "admitted": Minutes(F("admitted_at") - F("arrived_at")),
    }


def _one_row_per_walk_in(*, department_ids: list[int], period: Period) -> QuerySet:
    """The period's walk-ins, one row each, with when they reached each step and when the
    person first walked in before (null for a first visit).

    The rows are grouped (events joined on the two statuses that matter only, earlier visits
    likewise), so an aggregate over them runs on a subquery that PostgreSQL cannot inline: each
    value is computed once per walk-in, however many aggregates use it.

    The person is joined only to reach their other walk-ins; naming the person's department
    (always the walk-in's) lets PostgreSQL read one department's people through its index
    instead of hashing every person (see ``_of_walk_ins_q``).
    """
    return (
        _walk_ins(department_ids=department_ids, period=period)
        .filter(person__department_id__in=department_ids)
        .alias(
            steps=FilteredRelation(
                "events",
                condition=Q(events__to_status__in=[Status.COMPANION_ASSIGNED, Status.COMPANION_ARRIVED]),
            ),
            earlier_visits=FilteredRelation(
                "person__intakes",
                condition=Q(person__intakes__arrived_at__lt=F("arrived_at"))
                & ~Q(person__intakes__close_reason=DUPLICATE),
            ),
        )
        .values("pk")
        .annotate(
            accepted_at=Min("steps__at", filter=Q(steps__to_status=Status.COMPANION_ASSIGNED)),
            companion_arrived_at=Min("steps__at", filter=Q(steps__to_status=Status.COMPANION_ARRIVED)),
            placed_at=F("department_placement__placed_at"),
            admitted_at=F("department_placement__admitted_at"),
            earlier_visit_at=Min("earlier_visits__arrived_at"),
        )
    )


def _walk_in_totals(*, department_ids: list[int], period: Period) -> dict:
    """Counts and time percentiles of the period's walk-ins: one query."""
    aggregates = {
        "walk_ins": Count("pk"),
        "people": Count("person", distinct=True),
        "repeat_visits": Count("pk", filter=Q(earlier_visit_at__isnull=False)),
        "placed": Count("placed_at"),
        "admitted": Count("admitted_at"),
    }
    for key, minutes in _duration_expressions().items():
        aggregates[f"{key}__cases"] = Count(minutes)
        aggregates[f"{key}__median"] = Percentile(minutes, 0.5)
        aggregates[f"{key}__p90"] = Percentile(minutes, 0.9)
    return _one_row_per_walk_in(department_ids=department_ids, period=period).aggregate(**aggregates)


def _volunteer_response(*, department_ids: list[int], period: Period) -> VolunteerResponse:
    """Offers made for the period's walk-ins, by their present status: one query."""
    accepted = Q(status=Offer.Status.ACCEPTED)
    to_accept = Minutes(F("responded_at") - F("created_at"))
    row = Offer.objects.filter(_of_walk_ins_q(department_ids=department_ids, period=period)).aggregate(
        offers=Count("pk"),
        accepted=Count("pk", filter=accepted),
        declined=Count("pk", filter=Q(status=Offer.Status.DECLINED)),
        expired=Count("pk", filter=Q(status=Offer.Status.EXPIRED)),
        withdrawn=Count("pk", filter=Q(status=Offer.Status.WITHDRAWN)),
        pending=Count("pk", filter=Q(status=Offer.Status.PENDING)),
        median_minutes_to_accept=Percentile(to_accept, 0.5, filter=accepted),
        p90_minutes_to_accept=Percentile(to_accept, 0.9, filter=accepted),
    )
    return VolunteerResponse(**row)


def _by_level_of_care(*, department_ids: list[int], period: Period) -> list[tuple[str, str, int]]:
    rows = (
        Placement.objects.filter(_of_walk_ins_q(department_ids=department_ids, period=period))
        .values("level_of_care")
        .annotate(n=Count("pk"))
        .order_by("-n", "level_of_care")
    )
    labels = dict(LevelOfCare.choices)
    return [
        (row["level_of_care"], labels.get(row["level_of_care"], row["level_of_care"]), row["n"])
        for row in rows
    ]


def _by_facility(*, department_ids: list[int], period: Period, placed: int) -> list[tuple[str, int]]:
    """The ``TOP_FACILITIES`` facilities with the most placements, then all others together."""
    top = list(
        Placement.objects.filter(_of_walk_ins_q(department_ids=department_ids, period=period))
        .values("facility_id", "facility__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "facility__name", "facility_id")[:TOP_FACILITIES]
    )
    rows = [(row["facility__name"], row["n"]) for row in top]
    others = placed - sum(n for _, n in rows)
    if others:
        rows.append(("All other facilities", others))
    return rows


def _no_bed_reasons(*, department_ids: list[int], period: Period) -> list[tuple[str, str, int]]:
    """Placement attempts that did not give a bed, by outcome (every outcome listed, zeros too)."""
    counts = dict(
        PlacementAttempt.objects.filter(_of_walk_ins_q(department_ids=department_ids, period=period))
        .exclude(outcome=PlacementAttempt.Outcome.BED_OFFERED)
        .values("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    rows = [
        (value, label, counts.get(value, 0))
        for value, label in PlacementAttempt.Outcome.choices
        if value != PlacementAttempt.Outcome.BED_OFFERED
    ]
    return sorted(rows, key=lambda row: -row[2])


def _weeks(period: Period) -> list[date]:
    first = period.start - timedelta(days=period.start.weekday())
    return [first + timedelta(days=7 * n) for n in range((period.end - first).days // 7 + 1)]


def _months(start: date, end: date) -> list[date]:
    months, month = [], first_of_month(start)
    while month <= end:
        months.append(month)
        month = first_of_month(month + timedelta(days=31))
    return months


def _series(*, intakes: QuerySet[Intake], trunc, buckets: list[date], **counts) -> list[SeriesPoint]:
    """Counts of ``intakes`` by bucket (one grouped query); buckets without any are zeros."""
    rows = {
        row["bucket"]: row
        for row in intakes.annotate(bucket=trunc).values("bucket").annotate(**counts).order_by("bucket")
    }
    empty = dict.fromkeys(counts, 0)
    return [SeriesPoint(starts_on=bucket, **{**empty, **_strip(rows.get(bucket))}) for bucket in buckets]


def _strip(row: dict | None) -> dict:
    return {key: value for key, value in (row or {}).items() if key != "bucket"}


def program_figures(
    *, departments: list[Department], period: Period, now: datetime | None = None
) -> ProgramFigures:
    """Every figure of the dashboard for ``departments`` (already limited to the coordinator's)
    over ``period``. A fixed number of queries (eight), whatever the number of departments."""
    now = now or timezone.now()
    ids = [department.pk for department in departments]
    totals = _walk_in_totals(department_ids=ids, period=period)
    walk_ins = _walk_ins(department_ids=ids, period=period)
    tz = period.time_zone
    series_counts = {"walk_ins": Count("pk"), "placed": Count("department_placement")}
    return ProgramFigures(
        departments=departments,
        period=period,
        walk_ins=totals["walk_ins"],
        people=totals["people"],
        repeat_visits=totals["repeat_visits"],
        placed=totals["placed"],
        admitted=totals["admitted"],
        durations=[
            DurationFigure(
                key=key,
                label=label,
                cases=totals[f"{key}__cases"],
                median=totals[f"{key}__median"],
                p90=totals[f"{key}__p90"],
            )
            for key, label in DURATIONS
        ],
        by_level_of_care=_by_level_of_care(department_ids=ids, period=period),
        by_facility=_by_facility(department_ids=ids, period=period, placed=totals["placed"]),
        no_bed_reasons=_no_bed_reasons(department_ids=ids, period=period),
        volunteer_response=_volunteer_response(department_ids=ids, period=period),
        weekly=_series(
            intakes=walk_ins,
            trunc=TruncWeek("arrived_at", tzinfo=tz, output_field=DateField()),
            buckets=_weeks(period),
            **series_counts,
        ),
        monthly=_series(
            intakes=walk_ins,
            trunc=TruncMonth("arrived_at", tzinfo=tz, output_field=DateField()),
            buckets=_months(period.start, period.end),
            **series_counts,
        ),
        roster_gaps=roster_gaps(departments=departments, now=now),
        computed_at=now,
    )


@dataclass(frozen=True)
class CachedFigures:
    """Program figures as the figures page shows them: a copy from the cache, perhaps older
    than the records (the page says so)."""

    figures: ProgramFigures
    # Changes made since ``figures.computed_at`` are not counted (one department), or the copy
    # is older than ``HARBOR_FIGURES_CACHE_SECONDS`` (several departments).
    out_of_date: bool = False
    # A newer computation is queued: the page says to reload in a moment.
    refreshing: bool = False


@dataclass(frozen=True)
class _Refresh:
    """How to ask for one set of figures to be computed again by the ``refresh_figures`` task:
    its arguments (department ids and a period's dates and clock, never anything about a
    person) and the cache key that says one is queued.

    A department's default figures (the page without dates) have a key and arguments of their
    own, without dates: the commit of a change asks for them knowing only the department's id."""

    queued_key: str
    task_kwargs: dict


def _figures_key(*, departments: list[Department], period: Period, now: datetime) -> str:
    today = timezone.localdate(now, period.time_zone)
    ids = ",".join(str(department.pk) for department in departments)
    digest = hashlib.sha256(
        f"{ids}|{period.start}|{period.end}|{period.time_zone}|{today}".encode()
    ).hexdigest()
    return f"harbor:figures:v4:{digest}"


def _department_refresh(department_id: int) -> _Refresh:
    return _Refresh(
        queued_key=f"harbor:figures:queued:department:{department_id}",
        task_kwargs={"department_ids": [department_id]},
    )


def _refresh_of(*, departments: list[Department], period: Period, now: datetime) -> _Refresh:
    if len(departments) == 1 and period == default_period(departments=departments, now=now):
        return _department_refresh(departments[0].pk)
    digest = _figures_key(departments=departments, period=period, now=now).rsplit(":", 1)[1]
    return _Refresh(
        queued_key=f"harbor:figures:queued:{digest}",
        task_kwargs={
            "department_ids": [department.pk for department in departments],
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "time_zone": str(period.time_zone),
        },
    )


def _figures_version_key(department_id: int) -> str:
    return f"harbor:figures:version:{department_id}"


def _computed_key(department_id: int) -> str:
    """When the department's default figures were last computed (a POSIX time), kept for
    ``FIGURES_REFRESH_EVERY``: its absence means long enough ago."""
    return f"harbor:figures:computed:{department_id}"


def _version(departments: list[Department]) -> int:
    """One department's figures version (bumped on commit of every change they count); several
    departments' figures have none (they are computed again by age)."""
    return cache.get(_figures_version_key(departments[0].pk), 0) if len(departments) == 1 else 0


def _is_up_to_date(*, departments: list[Department], version: int, kept: tuple, now: datetime) -> bool:
    kept_version, figures = kept
    if len(departments) == 1:
        return kept_version == version
    return now - figures.computed_at < timedelta(seconds=settings.HARBOR_FIGURES_CACHE_SECONDS)


def _keep(*, departments: list[Department], period: Period, version: int, figures: ProgramFigures) -> None:
    now = figures.computed_at
    cache.set(
        _figures_key(departments=departments, period=period, now=now),
        (version, figures),
        FIGURES_KEPT_FOR.total_seconds(),
    )
    if len(departments) == 1 and period == default_period(departments=departments, now=now):
        cache.set(_computed_key(departments[0].pk), now.timestamp(), FIGURES_REFRESH_EVERY.total_seconds())


def _ask_for_refresh(refresh: _Refresh, *, not_before: datetime) -> bool:
    """Queue the ``refresh_figures`` task (on the ``reports`` queue) to start at ``not_before``,
    unless one is queued already. True when one is queued. Never raises: an unreachable cache
    or broker is logged (without anything about a person) and the copy stays as it is."""
    from .tasks import refresh_figures  # the tasks module imports this one

    try:
        if not cache.add(refresh.queued_key, True, FIGURES_REFRESH_QUEUED_FOR.total_seconds()):
            return True
        try:
            refresh_figures.apply_async(
                kwargs=refresh.task_kwargs,
                countdown=max(0.0, (not_before - timezone.now()).total_seconds()),
                expires=FIGURES_REFRESH_QUEUED_FOR.total_seconds(),
                retry=False,  # on the walk-in's commit, among others: fail at once, never wait
            )
        except Exception:
            cache.delete(refresh.queued_key)
            raise
    except Exception:
        logger.warning(
            "figures refresh not queued: cache or broker unreachable",
            extra={"department_ids": refresh.task_kwargs["department_ids"]},
        )
        return False
    return True


def program_figures_cached(
    *, departments: list[Department], period: Period, now: datetime | None = None
) -> CachedFigures:
    """``program_figures`` for the figures page, from the shared cache (Redis in production;
    never a web process's memory). A network's figures take a second or more of database time
    and a department's up to a hundred milliseconds; the page is read far more often than the
    records change, and it must answer as fast as any other page. So figures are computed in
    the request only when no copy is kept at all (the first look of the day at a department or
    a period); otherwise the copy is shown, and when it is out of date a Celery task
    (``referrals.tasks.refresh_figures``, queued once however many pages ask) computes it again
    on a worker of its own (the ``reports`` queue).

    One department's copy is out of date as soon as a change it counts has committed (a
    version per department, bumped by ``figures_changed``, which also queues the refresh). A
    copy of several departments' figures is out of date once older than
    ``settings.HARBOR_FIGURES_CACHE_SECONDS`` (across a network something changes every few
    seconds). ``HARBOR_FIGURES_CACHE_SECONDS = 0`` computes figures in every request.

    Copies are kept ``FIGURES_KEPT_FOR`` under a key holding the local date. An unreachable
    cache means figures computed in the request. Aggregates only: nothing about a person is
    cached or passed to the task.
    """
    if not settings.HARBOR_FIGURES_CACHE_SECONDS:
        return CachedFigures(program_figures(departments=departments, period=period, now=now))
    now = now or timezone.now()
    try:
        # The version before the figures are computed: a change committed meanwhile makes
        # them out of date at once.
        version = _version(departments)
        kept = cache.get(_figures_key(departments=departments, period=period, now=now))
    except Exception:
        logger.warning("figures cache unreachable: figures computed in the request")
        return CachedFigures(program_figures(departments=departments, period=period, now=now))
    if kept is None:
        figures = program_figures(departments=departments, period=period, now=now)
        try:
            _keep(departments=departments, period=period, version=version, figures=figures)
        except Exception:
            logger.warning("figures cache unreachable: figures not kept")
        return CachedFigures(figures)
    figures = kept[1]
    if _is_up_to_date(departments=departments, version=version, kept=kept, now=now):
        return CachedFigures(figures)
    not_before = now
    if len(departments) == 1:
        not_before = figures.computed_at + FIGURES_REFRESH_EVERY
    refresh = _refresh_of(departments=departments, period=period, now=now)
    return CachedFigures(
        figures, out_of_date=True, refreshing=_ask_for_refresh(refresh, not_before=not_before)
    )


def program_figures_refresh(
    *, departments: list[Department], period: Period | None = None, now: datetime | None = None
) -> ProgramFigures | None:
    """Compute the kept copy of figures again if it is out of date (``refresh_figures``, on the
    ``reports`` queue). ``period`` None: the departments' default period, read on their clock
    here (the commit that asked knew only a department's id).

    Computes nothing when no copy is kept (nobody has looked at these figures today: the next
    page computes them) or when the copy is up to date (another refresh came first). From its
    start, a change asks for another refresh: the queued mark is removed before the version is
    read. Returns the new figures, or None.
    """
    now = now or timezone.now()
    period = period or default_period(departments=departments, now=now)
    cache.delete(_refresh_of(departments=departments, period=period, now=now).queued_key)
    version = _version(departments)
    kept = cache.get(_figures_key(departments=departments, period=period, now=now))
    if kept is None or _is_up_to_date(departments=departments, version=version, kept=kept, now=now):
        return None
    figures = program_figures(departments=departments, period=period, now=now)
    _keep(departments=departments, period=period, version=version, figures=figures)
    return figures


def figures_changed(*, department_id: int) -> None:
    """The department's figures are out of date: its version goes up, and a refresh of its
    default figures is queued (once while one is queued), to start ``FIGURES_REFRESH_DELAY``
    from now, or ``FIGURES_REFRESH_EVERY`` after they were last computed if that is later.

    Runs on the commit of every change the figures count, the walk-in's among them: two round
    trips to the cache, and when no refresh is queued yet one more and a broker publish. Never
    raises: an unreachable cache or broker is logged, and the figures page then shows the copy
    it has and says that later changes are not counted yet.
    """
    refresh = _department_refresh(department_id)
    try:
        try:
            cache.incr(_figures_version_key(department_id))
        except ValueError:  # no version yet
            cache.set(_figures_version_key(department_id), 1, timeout=None)
        marks = cache.get_many([refresh.queued_key, _computed_key(department_id)])
    except Exception:
        logger.warning(
            "figures cache unreachable: version not bumped", extra={"department_id": department_id}
        )
        return
    if refresh.queued_key in marks:
        return
    not_before = timezone.now() + FIGURES_REFRESH_DELAY
    if (computed_at := marks.get(_computed_key(department_id))) is not None:
        not_before = max(not_before, datetime.fromtimestamp(computed_at, UTC) + FIGURES_REFRESH_EVERY)
    _ask_for_refresh(refresh, not_before=not_before)


def figures_changed_on_commit(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` receiver for the models the figures count."""
    department_id = getattr(instance, "department_id", None)
    if department_id is not None and settings.HARBOR_FIGURES_CACHE_SECONDS:
        transaction.on_commit(lambda: figures_changed(department_id=department_id))


def roster_gaps(*, departments: list[Department], now: datetime | None = None) -> list[RosterGaps]:
    """Hours with nobody on call in the next ``ROSTER_GAP_DAYS`` days, per department: one query
    whatever the number of departments and shifts (``volunteers.roster.departments_gap_days``)."""
    by_department = departments_gap_days(departments=departments, days=ROSTER_GAP_DAYS, now=now)
    return [RosterGaps(department=d, days=by_department[d.pk]) for d in departments]


# --- presenting the figures ------------------------------------------------------------------


def chart_data(figures: ProgramFigures) -> dict:
    """What static/js/dashboard.js draws (passed to the page with ``json_script``)."""

    def series(points: list[SeriesPoint], label_format: str) -> dict:
        return {
            "labels": [dateformat.format(point.starts_on, label_format) for point in points],
            "walk_ins": [point.walk_ins for point in points],
            "placed": [point.placed for point in points],
        }

    return {"weekly": series(figures.weekly, "M j, Y"), "monthly": series(figures.monthly, "M Y")}


# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def figures_rows(figures: ProgramFigures) -> list[tuple[str, str, str]]:
    """The figures as (section, name, value) rows for the CSV export: aggregates only."""
    period = figures.period
    rows: list[tuple[str, str, object]] = [
        ("period", "first_day", period.start.isoformat()),
        ("period", "last_day", period.end.isoformat()),
        ("period", "time_zone", str(period.time_zone)),
        *(("department", str(department.pk), department.name) for department in figures.departments),
        ("walk_ins", "walk_ins", figures.walk_ins),
        ("walk_ins", "people", figures.people),
        ("walk_ins", "repeat_visits", figures.repeat_visits),
        ("walk_ins", "placed", figures.placed),
        ("walk_ins", "admitted", figures.admitted),
        ("walk_ins", "share_placed_percent", _percent(figures.share_placed)),
    ]
    for duration in figures.durations:
        section = f"minutes_walk_in_to_{duration.key}"
        rows += [
            (section, "cases", duration.cases),
            (section, "median", duration.median),
            (section, "p90", duration.p90),
        ]
    rows += [("placements_by_level_of_care", value, n) for value, _, n in figures.by_level_of_care]
    rows += [("placements_by_facility", name, n) for name, n in figures.by_facility]
    rows += [("no_bed_reasons", value, n) for value, _, n in figures.no_bed_reasons]
    response = figures.volunteer_response
    rows += [
        ("volunteer_response", name, getattr(response, name))
        for name in (
            "offers",
            "accepted",
            "declined",
            "expired",
            "withdrawn",
            "pending",
            "median_minutes_to_accept",
            "p90_minutes_to_accept",
        )
    ]
    rows += [
        ("roster_gap_hours_next_7_days", gaps.department.name, gaps.gap_hours) for gaps in figures.roster_gaps
    ]
    for name, points in (("weekly", figures.weekly), ("monthly", figures.monthly)):
        for point in points:
            rows += [
                (f"{name}_walk_ins", point.starts_on.isoformat(), point.walk_ins),
                (f"{name}_placed", point.starts_on.isoformat(), point.placed),
            ]
    return [(section, _cell(name), _cell(value)) for section, name, value in rows]


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


# --- the public summary -----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicCount:
    """A count as published: the number, or nothing when it is under ``SMALL_CELL``."""

    value: int | None

    @classmethod
    def of(cls, count: int) -> PublicCount:
        return cls(count if count >= SMALL_CELL else None)

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def as_json(self) -> dict:
        return {"value": self.value, "suppressed": self.suppressed}

    def __str__(self) -> str:
        return f"fewer than {SMALL_CELL}" if self.suppressed else f"{self.value:,}"


@dataclass(frozen=True)
class PublicMonth:
    month: date
    walk_ins: PublicCount
    people: PublicCount
    placed: PublicCount


@dataclass(frozen=True)
class PublicSummary:
    department: Department
    # Whole months only: the figures cover walk-ins up to the end of ``through`` (a month),
    # since the month the department began using Harbor.
    through: date
    since: date
    walk_ins: PublicCount
    people: PublicCount
    placed: PublicCount
    # Whole percent, or None when either count is suppressed.
    share_placed: int | None
    # Whole minutes, or None when fewer than SMALL_CELL walk-ins had a companion accept.
    median_minutes_to_companion: int | None
    months: list[PublicMonth]

    def as_json(self) -> dict:
        return {
            "department": {"id": self.department.pk, "name": self.department.name},
            "through_month": self.through.strftime("%Y-%m"),
            "since_month": self.since.strftime("%Y-%m"),
            "suppression": {
                "threshold": SMALL_CELL,
                "rule": (
                    f"Counts under {SMALL_CELL} (zero included) are not published: their value is "
                    'null and "suppressed" is true. Other counts are suppressed with them wherever '
                    "a hidden count could otherwise be worked out from this and earlier "
                    "publications (row sums, or totals differenced month to month): "
                    "a month's placements, the month's own count, or a total. Shares and "
                    f"medians resting on a count under {SMALL_CELL} are null."
                ),
            },
            "totals": {
                "walk_ins": self.walk_ins.as_json(),
                "people": self.people.as_json(),
                "placed_in_treatment": self.placed.as_json(),
            },
            "share_placed_percent": self.share_placed,
            "median_minutes_to_companion": self.median_minutes_to_companion,
            "months": [
                {
                    "month": month.month.strftime("%Y-%m"),
                    "walk_ins": month.walk_ins.as_json(),
                    "people": month.people.as_json(),
                    "placed_in_treatment": month.placed.as_json(),
                }
                for month in self.months
            ],
        }


def _monthly_history(*, department: Department, period: Period) -> list[SeriesPoint]:
    """Every month of the department's walk-ins, from its first month with any to the end of
    ``period``: visits, placements, distinct people and first-time visitors. One query."""
    tz = department.tzinfo
    all_time = Period(start=EARLIEST_WALK_IN, end=period.end, time_zone=tz)
    earlier = Intake.objects.filter(
        person_id=OuterRef("person_id"), arrived_at__lt=OuterRef("arrived_at")
    ).exclude(close_reason=DUPLICATE)
    rows = list(
        _walk_ins(department_ids=[department.pk], period=all_time)
        .annotate(bucket=TruncMonth("arrived_at", tzinfo=tz, output_field=DateField()))
        .values("bucket")
        .annotate(
            walk_ins=Count("pk"),
            people=Count("person", distinct=True),
            placed=Count("department_placement"),
            new_people=Count("pk", filter=~Exists(earlier)),
        )
        .order_by("bucket")
    )
    if not rows:
        return []
    by_month = {row.pop("bucket"): row for row in rows}
    start = min(by_month)
    empty = {"walk_ins": 0, "people": 0, "placed": 0, "new_people": 0}
    return [
        SeriesPoint(starts_on=month, **{**empty, **by_month.get(month, {})})
        for month in _months(start, period.end)
        if month <= period.end
    ]


def public_summary(*, department: Department, now: datetime | None = None) -> PublicSummary:
    """What the department may tell the public: counts of whole months that are over, with
    primary and complementary suppression planned over its whole history
    (``referrals.suppression``), so that no count under ``SMALL_CELL`` can be worked out from
    what this page and every earlier one published. Two queries whatever the number of walk-ins.

    "Since" is the month the department began using Harbor, not that of its first walk-in (a
    date taken from a person's record)."""
    tz = department.tzinfo
    this_month = first_of_month(timezone.localdate(now or timezone.now(), tz))
    period = Period(
        start=first_of_month(this_month, PUBLIC_MONTHS), end=this_month - timedelta(days=1), time_zone=tz
    )
    all_time = Period(start=EARLIEST_WALK_IN, end=period.end, time_zone=tz)

    totals = _one_row_per_walk_in(department_ids=[department.pk], period=all_time).aggregate(
        accepted_cases=Count("accepted_at"),
        median_to_companion=Percentile(Minutes(F("accepted_at") - F("arrived_at")), 0.5),
    )
    history = _monthly_history(department=department, period=period)
    plans = plan_publication(
        [MonthCounts(point.walk_ins, point.placed, point.new_people) for point in history], small=SMALL_CELL
    )
    last = plans[-1] if plans else MonthPlan(walk_ins=False, placed=False)
    walk_ins_total = sum(point.walk_ins for point in history)
    placed_total = sum(point.placed for point in history)
    people_total = sum(point.new_people for point in history)
    walk_ins = PublicCount(walk_ins_total if last.total_walk_ins else None)
    placed = PublicCount(placed_total if last.total_placed else None)
    people = PublicCount(people_total if last.total_people else None)
    share = None
    if not walk_ins.suppressed and not placed.suppressed:
        share = round(100 * placed_total / walk_ins_total)
    median = None
    if totals["accepted_cases"] >= SMALL_CELL and totals["median_to_companion"] is not None:
        median = round(totals["median_to_companion"])
    planned = {point.starts_on: (point, plan) for point, plan in zip(history, plans, strict=True)}
    months = []
    for month in _months(period.start, period.end):
        point, plan = planned.get(month, (None, None))
        months.append(
            PublicMonth(
                month=month,
                walk_ins=PublicCount(point.walk_ins if plan and plan.walk_ins else None),
                # Distinct people by month add up to nothing published: primary suppression only.
                people=PublicCount.of(point.people if point else 0),
                placed=PublicCount(point.placed if plan and plan.placed else None),
            )
        )
    return PublicSummary(
        department=department,
        through=first_of_month(this_month, 1),
        since=first_of_month(timezone.localdate(department.created_at, tz)),
        walk_ins=walk_ins,
        people=people,
        placed=placed,
        share_placed=share,
        median_minutes_to_companion=median,
        months=months,
    )
