"""The coordinator's program figures: reads only, every figure an SQL aggregate (the live board
is ``referrals.reports.board``; the kept copy and its refresh are ``referrals.reports.services``).

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Aggregate,
    Count,
    DateField,
    F,
    FilteredRelation,
    FloatField,
    Func,
    Min,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import dateformat, timezone

from accounts.models import Department
from config.formats import weekday_month_day
from intake.models import Intake
from referrals.directory.models import LevelOfCare
from referrals.placement.models import Placement, PlacementAttempt
from volunteers.models import Offer
from volunteers.roster.selectors import GapDay, departments_gap_days, local_moment

TOP_FACILITIES = 10
ROSTER_GAP_DAYS = 7

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


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share
