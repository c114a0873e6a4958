"""The on-call roster, reads: who may see which shift, coverage, hours, the calendar feed; and the
shift rules and local-time helpers the writes (``roster.services``) share.

Times are stored in UTC and entered and shown in the department's time zone. A weekly shift
starts at the same clock time every week, across daylight-saving changes, and its length is
counted on the clock too ("10 PM to 6 AM" stays that, on the nights the clocks change as well).

A volunteer is never on call twice at once, in any department: the services look first, to name
the clashing shift, and the database refuses whatever slips past that look (an exclusion
constraint on the volunteer and ``tstzrange(starts_at, ends_at)``, with btree_gist).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import dateformat, timezone

from accounts.models import Department, Role, User
from accounts.selectors import coordinator_department_ids, departments_for_role
from volunteers.roster.models import (
    BACKGROUND_CHECK_VALID_FOR,
    Shift,
    ShiftSeries,
    Volunteer,
)

# Shift rules. The length of a shift is counted on the department's clock.
MAX_SHIFT_LENGTH = timedelta(hours=24)
# A shift entered "now" may start a few minutes ago (the form took a moment to fill in).
PAST_GRACE = timedelta(minutes=5)
# Nobody signs up for a shift more than a year ahead; it also keeps hostile dates in range.
MAX_DAYS_AHEAD = 366
SERIES_HORIZON_DAYS = 56
COVERAGE_DAYS = 14
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=MAX_DAYS_AHEAD + 1)
OVERLAP_CONSTRAINTS = {"shift_no_overlap_per_volunteer", "shift_unique_start"}


# --- local time -------------------------------------------------------------------------------


def local_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """``at`` o'clock on ``day`` in ``tz``, in UTC.

    A clock time skipped when the clocks go forward is read as the same time an hour later
    (2:30 AM → 3:30 AM); a clock time that happens twice when they go back is the first one.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def exists_on_clock(day: date, at: time, tz: tzinfo) -> bool:
    """False for a clock time skipped when the clocks go forward (2:30 AM on that night)."""
    return local_moment(day, at, tz).astimezone(tz).replace(tzinfo=None) == datetime.combine(day, at)


def occurrence(day: date, start_time: time, clock_length: timedelta, tz: tzinfo) -> tuple[datetime, datetime]:
    """A shift starting at ``start_time`` on ``day`` and lasting ``clock_length`` on the clock."""
    start = datetime.combine(day, start_time)
    end = start + clock_length
    return local_moment(start.date(), start.time(), tz), local_moment(end.date(), end.time(), tz)


def clock_length(starts_at: datetime, ends_at: datetime, tz: tzinfo) -> timedelta:
    """How long a shift lasts on the department's clock (23 or 25 real hours can be 24 h)."""
    return timezone.localtime(ends_at, tz).replace(tzinfo=None) - timezone.localtime(starts_at, tz).replace(
        tzinfo=None
    )


def local_when(moment: datetime, tz: tzinfo, fmt: str = "D M j, g:i A") -> str:
    return dateformat.format(timezone.localtime(moment, tz), fmt)


def volunteer_time_zone(*, departments: Iterable[Department]) -> tzinfo:
    """The zone for a volunteer's own pages: their department's (the first, if several)."""
    first = next(iter(departments), None)
    return first.tzinfo if first is not None else timezone.get_default_timezone()


# --- who may see what -------------------------------------------------------------------------


def volunteer_get_for_user(*, user: User) -> Volunteer | None:
    """The signed-in user's own volunteer profile, if they have one."""
    return Volunteer.objects.select_related("user").filter(user=user).first()


def volunteer_departments(*, volunteer: Volunteer) -> list[Department]:
    return list(volunteer.departments.order_by("name"))


def coordinator_departments(*, user: User) -> list[Department]:
    return list(departments_for_role(user=user, role=Role.COORDINATOR).order_by("name"))


def volunteers_visible_to_coordinator(*, user: User) -> QuerySet[Volunteer]:
    """Volunteers serving at least one of the coordinator's departments."""
    return Volunteer.objects.filter(
        Exists(
            Volunteer.departments.through.objects.filter(
                volunteer_id=OuterRef("pk"), department_id__in=coordinator_department_ids(user=user)
            )
        )
    )


def volunteer_get_for_coordinator(*, user: User, volunteer_id: int) -> Volunteer:
    """A volunteer of one of the coordinator's departments, else 404."""
    return get_object_or_404(
        volunteers_visible_to_coordinator(user=user).select_related("user"), pk=volunteer_id
    )


def shifts_visible_to(*, user: User) -> QuerySet[Shift]:
    """A volunteer's own shifts, and every shift of the departments the user coordinates."""
    if not user.is_authenticated:
        return Shift.objects.none()
    return Shift.objects.filter(
        Q(volunteer__user=user) | Q(department_id__in=coordinator_department_ids(user=user))
    )


def shift_get_for_user(*, user: User, shift_id: int) -> Shift:
    return get_object_or_404(
        shifts_visible_to(user=user).select_related("department", "volunteer__user"), pk=shift_id
    )


def series_get_for_user(*, user: User, series_id: int) -> ShiftSeries:
    visible = ShiftSeries.objects.filter(
        Q(volunteer__user=user) | Q(department_id__in=coordinator_department_ids(user=user))
    )
    return get_object_or_404(visible.select_related("department", "volunteer__user"), pk=series_id)


# --- reads for the pages ----------------------------------------------------------------------


VETTING_TEXT = {
    # code: (what the volunteer reads, what the coordinator's roster says)
    "paused": ("Your volunteer profile is paused. Your coordinator can switch it back on.", "Profile paused"),
    "background_check": ("A background check is not on file yet.", "No background check on file"),
    "background_check_expired": (
        "Your background check (from {}) is more than two years old and needs renewing.",
        "Background check expired (from {})",
    ),
    "training": ("Your companion training is not recorded yet.", "Training not recorded"),
    "agreement": (
        "The confidentiality agreement has not been signed yet.",
        "Confidentiality agreement not signed",
    ),
}


def vetting_missing(*, volunteer: Volunteer, on: date, for_coordinator: bool = False) -> list[str]:
    """What stands between this volunteer and being paged, in words, or [] when nothing does.
    Worded for the volunteer themself, or tersely for the coordinator's roster."""
    gaps: list[tuple[str, str]] = []
    if not volunteer.is_active or not volunteer.user.is_active:
        gaps.append(("paused", ""))
    if volunteer.background_check_on is None:
        gaps.append(("background_check", ""))
    elif volunteer.background_check_on + BACKGROUND_CHECK_VALID_FOR < on:
        gaps.append(("background_check_expired", dateformat.format(volunteer.background_check_on, "M j, Y")))
    if volunteer.training_completed_on is None:
        gaps.append(("training", ""))
    if volunteer.confidentiality_agreement_signed_on is None:
        gaps.append(("agreement", ""))
    return [VETTING_TEXT[code][int(for_coordinator)].format(detail) for code, detail in gaps]


def may_be_on_call(*, volunteer: Volunteer, on: date) -> bool:
    return not vetting_missing(volunteer=volunteer, on=on)


def upcoming_shifts(*, volunteer: Volunteer, now: datetime | None = None) -> QuerySet[Shift]:
    """Shifts not yet over, soonest first (a shift in progress included)."""
    now = now or timezone.now()
    return (
        Shift.objects.filter(volunteer=volunteer, ends_at__gt=now)
        .select_related("department", "series")
        .order_by("starts_at")
    )


def active_series(
    *, volunteer: Volunteer | None = None, now: datetime | None = None
) -> QuerySet[ShiftSeries]:
    """Weekly shifts with an occurrence still to come: one not yet started, or not yet created."""
    now = now or timezone.now()
    future = Shift.objects.filter(series=OuterRef("pk"), starts_at__gt=now)
    series = ShiftSeries.objects.filter(
        Q(materialised_until__isnull=True)
        | Q(ends_on__isnull=True)
        | Q(ends_on__gt=F("materialised_until"))
        | Exists(future)
    )
    if volunteer is not None:
        series = series.filter(volunteer=volunteer)
    return series.select_related("department").order_by("weekday", "start_time")


def roster_volunteers(*, department: Department, now: datetime | None = None) -> QuerySet[Volunteer]:
    """A department's volunteers for the coordinator's roster, with their next shift there and
    the number of shifts in the coverage window, in one query."""
    now = now or timezone.now()
    here = Shift.objects.filter(volunteer=OuterRef("pk"), department=department, ends_at__gt=now)
    window = here.filter(starts_at__lt=now + timedelta(days=COVERAGE_DAYS))
    return (
        Volunteer.objects.filter(departments=department)
        .select_related("user")
        .annotate(
            next_shift_at=Subquery(
                here.order_by().values("volunteer").annotate(m=Min("starts_at")).values("m")[:1]
            ),
            shifts_in_window=Coalesce(
                Subquery(window.order_by().values("volunteer").annotate(n=Count("pk")).values("n")[:1]), 0
            ),
        )
        .order_by("user__last_name", "user__first_name", "user__username")
    )


# --- coverage ---------------------------------------------------------------------------------


@dataclass
class CoverageCell:
    starts_at: datetime
    ends_at: datetime
    hour: int
    # Fewest and most volunteers on call at any moment of the hour.
    fewest: int = 0
    most: int = 0
    names: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        """False for the hour skipped when the clocks go forward."""
        return self.ends_at > self.starts_at

    @property
    def is_gap(self) -> bool:
        return self.exists and self.fewest == 0

    @property
    def is_partial_gap(self) -> bool:
        return self.is_gap and self.most > 0


@dataclass
class CoverageDay:
    day: date
    cells: list[CoverageCell]

    @property
    def gap_hours(self) -> int:
        return sum(cell.is_gap for cell in self.cells)


@dataclass
class Coverage:
    department: Department
    start: date
    days: list[CoverageDay]
    # Vetted volunteers who opted in to "call me any time": pageable, but not counted above.
    any_time_volunteers: int
    # Shifts in the window by volunteers who may not be paged (paused, vetting incomplete).
    uncounted_shifts: int

    @property
    def gap_hours(self) -> int:
        return sum(day.gap_hours for day in self.days)


def department_coverage(
    *, department: Department, start: date, days: int = COVERAGE_DAYS, now: datetime | None = None
) -> Coverage:
    """How many volunteers are on call in each local hour of ``days`` days from ``start``.

    Counts only shifts of volunteers who can be paged (active, and vetted on the day the shift
    starts). A cell holds the fewest and the most volunteers on call during its hour: an hour is
    a gap when at some moment in it nobody is. Two queries whatever the number of shifts: the
    overlapping shifts are fetched once and swept in Python.
    """
    tz = department.tzinfo
    day_rows = _coverage_days(start=start, days=days, tz=tz)
    window_start, window_end = day_rows[0].cells[0].starts_at, day_rows[-1].cells[-1].ends_at

    shifts = list(
        Shift.objects.filter(department=department, starts_at__lt=window_end, ends_at__gt=window_start)
        .select_related("volunteer__user")
        .order_by("starts_at")
    )
    counted, uncounted = [], 0
    for shift in shifts:
        volunteer = shift.volunteer
        if may_be_on_call(volunteer=volunteer, on=timezone.localdate(shift.starts_at, tz)):
            counted.append(shift)
        else:
            uncounted += 1
    _sweep([cell for row in day_rows for cell in row.cells], counted)

    today = timezone.localdate(now or timezone.now(), tz)
    any_time = Volunteer.objects.vetted(on=today).filter(departments=department, call_any_time=True).count()
    return Coverage(
        department=department,
        start=start,
        days=day_rows,
        any_time_volunteers=any_time,
        uncounted_shifts=uncounted,
    )


def _coverage_days(*, start: date, days: int, tz: tzinfo) -> list[CoverageDay]:
    """Empty cells, one per local hour of ``days`` days from ``start`` on the clock of ``tz``."""
    day_rows = []
    for day in (start + timedelta(days=n) for n in range(days)):
        cells = []
        # Hour boundaries on the clock: 25 of them, the last being midnight of the next day.
        bounds = [local_moment(day, time(hour), tz) for hour in range(24)]
        bounds.append(local_moment(day + timedelta(days=1), time.min, tz))
        for hour in range(24):
            begins, ends = bounds[hour], bounds[hour + 1]
            cells.append(CoverageCell(starts_at=begins, ends_at=max(begins, ends), hour=hour))
        day_rows.append(CoverageDay(day=day, cells=cells))
    return day_rows


@dataclass(frozen=True)
class GapDay:
    day: date
    gap_hours: int


# Every vetted volunteer's shifts of each department merged into one multirange (range_agg): the
# time someone can be paged. Vetted as ``may_be_on_call`` reads it, on the day the shift starts.
_ON_CALL_SQL = """
SELECT s.department_id, range_agg(tstzrange(s.starts_at, s.ends_at))
FROM volunteers_shift s
JOIN volunteers_volunteer v ON v.id = s.volunteer_id
JOIN accounts_user u ON u.id = v.user_id
JOIN accounts_department d ON d.id = s.department_id
WHERE s.department_id = ANY(%(departments)s) AND s.starts_at < %(until)s AND s.ends_at > %(since)s
  AND v.is_active AND u.is_active
  AND v.training_completed_on IS NOT NULL AND v.confidentiality_agreement_signed_on IS NOT NULL
  AND v.background_check_on + %(valid_days)s >= (s.starts_at AT TIME ZONE d.time_zone)::date
GROUP BY s.department_id
"""


def departments_gap_days(
    *, departments: list[Department], days: int, now: datetime | None = None
) -> dict[int, list[GapDay]]:
    """For each department, from its own today: each day and its hours in which, at some moment,
    no vetted volunteer is on call (``department_coverage``'s gaps, without its counts and names).

    One query whatever the number of departments and shifts: PostgreSQL merges each department's
    shifts into the periods someone is on call, and each hour is checked against those in Python.
    """
    now = now or timezone.now()
    calendars = {
        department.pk: _coverage_days(
            start=timezone.localdate(now, department.tzinfo), days=days, tz=department.tzinfo
        )
        for department in departments
    }
    if not calendars:
        return {}
    cells = [cell for rows in calendars.values() for row in rows for cell in row.cells]
    with connection.cursor() as cursor:
        cursor.execute(
            _ON_CALL_SQL,
            {
                "departments": list(calendars),
                "since": min(cell.starts_at for cell in cells),
                "until": max(cell.ends_at for cell in cells),
                "valid_days": BACKGROUND_CHECK_VALID_FOR.days,
            },
        )
        on_call = {department_id: sorted(periods, key=lambda r: r.lower) for department_id, periods in cursor}
    result = {}
    for department_id, rows in calendars.items():
        periods = on_call.get(department_id, [])
        starts = [period.lower for period in periods]

        def covered(cell: CoverageCell, periods=periods, starts=starts) -> bool:
            # Merged periods never touch: the one starting last at or before the hour must hold it.
            index = bisect_right(starts, cell.starts_at) - 1
            return index >= 0 and periods[index].upper >= cell.ends_at

        result[department_id] = [
            GapDay(day=row.day, gap_hours=sum(cell.exists and not covered(cell) for cell in row.cells))
            for row in rows
        ]
    return result


def _sweep(cells: list[CoverageCell], shifts: list[Shift]) -> None:
    """Fill each cell's fewest/most/names from the shifts, walking both in time order."""
    changes: dict[datetime, list[tuple[int, Shift]]] = {}
    for shift in shifts:
        changes.setdefault(shift.starts_at, []).append((+1, shift))
        changes.setdefault(shift.ends_at, []).append((-1, shift))
    moments = sorted(changes)
    on_call: dict[int, Shift] = {}
    index = 0

    def apply(moment: datetime) -> None:
        for delta, shift in changes[moment]:
            if delta > 0:
                on_call[shift.pk] = shift
            else:
                on_call.pop(shift.pk, None)

    for cell in cells:
        while index < len(moments) and moments[index] <= cell.starts_at:
            apply(moments[index])
            index += 1
        if not cell.exists:
            continue
        seen = dict(on_call)
        cell.fewest = cell.most = len(on_call)
        while index < len(moments) and moments[index] < cell.ends_at:
            apply(moments[index])
            index += 1
            seen.update(on_call)
            cell.fewest, cell.most = min(cell.fewest, len(on_call)), max(cell.most, len(on_call))
        cell.names = sorted(str(shift.volunteer) for shift in seen.values())


# --- calendar feed ----------------------------------------------------------------------------


def calendar_volunteer_for_token(*, token: str) -> Volunteer | None:
    """The volunteer whose private feed this is; None for an unknown token or a paused profile."""
    if not token or len(token) > Volunteer._meta.get_field("calendar_token").max_length:
        return None
    return (
        Volunteer.objects.filter(calendar_token=token, is_active=True, user__is_active=True)
        .select_related("user")
        .first()
    )


def calendar_feed_ics(*, volunteer: Volunteer, now: datetime | None = None) -> bytes:
    """The volunteer's shifts from 30 days ago onwards as iCalendar (RFC 5545). One query.

    Events carry the station and its address, never anything about the people helped. Each
    shift keeps its UID, so calendar apps update events in place.
    """
    from icalendar import Calendar, Event

    now = now or timezone.now()
    shifts = Shift.objects.filter(
        volunteer=volunteer, ends_at__gt=now - FEED_PAST, starts_at__lt=now + FEED_FUTURE
    ).select_related("department")
    calendar = Calendar()
    calendar.add("prodid", "-//Harbor//On-call shifts//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Harbor on-call shifts")
    calendar.add("x-published-ttl", "PT1H")
    for shift in shifts:
        event = Event()
        event.add("uid", f"shift-{shift.pk}@{settings.HARBOR_EMAIL_DOMAIN}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("created", shift.created_at.astimezone(UTC))
        event.add("dtstart", shift.starts_at.astimezone(UTC))
        event.add("dtend", shift.ends_at.astimezone(UTC))
        event.add("summary", f"On call — {shift.department.name}")
        event.add("location", shift.department.address)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
