"""The public summary of one department (no sign-in): counts only, for whole calendar months
that are over, and no count under ``SMALL_CELL`` (zero included): "fewer than 11" on the page, ``null``
with ``"suppressed": true`` in the JSON. Complementary suppression (``referrals.reports.suppression``),
planned over the department's whole history, hides whatever else (a month's placements, a
month's visits, a total) would let a hidden count be worked out from this page and the earlier
ones, totals differenced month to month included. A median is published only when it rests on
at least ``SMALL_CELL`` walk-ins, and a share only when both of its counts are published.
"Since" is the month the department began using Harbor, never a date taken from a person's
record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, DateField, Exists, F, OuterRef
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Department
from intake.models import Intake

from .figures import (
    DUPLICATE,
    Minutes,
    Percentile,
    Period,
    SeriesPoint,
    _months,
    _one_row_per_walk_in,
    _walk_ins,
    first_of_month,
)
from .suppression import MonthCounts, MonthPlan, plan_publication

# Reports publish no count under this (docs/design.md "Privacy and law").
SMALL_CELL = 11
PUBLIC_MONTHS = 12
# Walk-ins before this are not expected (nor reachable by the filters).
EARLIEST_WALK_IN = date(2000, 1, 1)


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
    (``referrals.reports.suppression``), so that no count under ``SMALL_CELL`` can be worked out from
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
