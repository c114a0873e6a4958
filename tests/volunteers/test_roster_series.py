"""Weekly shifts: materialised ahead, same local start every week across daylight saving,
idempotent, dropped occurrences stay dropped, stopping a series."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from config.celery import app
from volunteers.models import Shift, ShiftSeries
from volunteers.roster import selectors as roster_selectors
from volunteers.roster import services as roster_services
from volunteers.roster.tasks import extend_shift_series

from .conftest import BEFORE_FALL_BACK, BEFORE_SPRING_FORWARD, shift

SATURDAY, SUNDAY = 5, 6


def _series(volunteer, department, *, now, weekday=SATURDAY, start=time(22), hours=8, starts_on=None, **kw):
    return roster_services.shift_series_create(
        volunteer=volunteer,
        department=department,
        weekday=weekday,
        start_time=start,
        duration=timedelta(hours=hours),
        starts_on=starts_on or now.date(),
        ends_on=kw.pop("ends_on", None),
        created_by=kw.pop("by", volunteer.user),
        now=now,
    )


def _local(moments, department):
    return [timezone.localtime(m, department.tzinfo) for m in moments]


def test_weekly_shift_keeps_its_local_start_time_when_the_clocks_go_back(volunteer, department):
    series, extension = _series(volunteer, department, now=BEFORE_FALL_BACK, ends_on=date(2026, 11, 14))

    shifts = list(series.shifts.order_by("starts_at"))
    assert extension.created == len(shifts) == 4  # Oct 24, Oct 31, Nov 7, Nov 14
    starts = _local([s.starts_at for s in shifts], department)
    ends = _local([s.ends_at for s in shifts], department)
    assert [(s.month, s.day, s.hour) for s in starts] == [
        (10, 24, 22),
        (10, 31, 22),
        (11, 7, 22),
        (11, 14, 22),
    ]
    assert {(e.hour, e.minute) for e in ends} == {(6, 0)}
    # 10 PM EDT is 02:00 UTC; 10 PM EST is 03:00 UTC.
    assert shifts[0].starts_at.astimezone(UTC).hour == 2
    assert shifts[2].starts_at.astimezone(UTC).hour == 3
    # The night the clocks go back lasts an hour longer: 10 PM to 6 AM is nine real hours.
    assert shifts[1].ends_at - shifts[1].starts_at == timedelta(hours=9)
    assert shifts[2].ends_at - shifts[2].starts_at == timedelta(hours=8)


def test_weekly_shift_keeps_its_local_start_time_when_the_clocks_go_forward(volunteer, department):
    series, _ = _series(
        volunteer, department, now=BEFORE_SPRING_FORWARD, start=time(20), ends_on=date(2027, 3, 27)
    )

    shifts = list(series.shifts.order_by("starts_at"))
    starts = _local([s.starts_at for s in shifts], department)
    assert [(s.day, s.hour) for s in starts] == [(6, 20), (13, 20), (20, 20), (27, 20)]
    assert shifts[1].ends_at - shifts[1].starts_at == timedelta(hours=7)  # 8 PM Sat to 4 AM Sun, Mar 14


def test_a_start_time_the_clocks_skip_becomes_the_same_time_an_hour_later(volunteer, department):
    series, _ = _series(
        volunteer,
        department,
        now=BEFORE_SPRING_FORWARD,
        weekday=SUNDAY,
        start=time(2, 30),
        hours=4,
        starts_on=date(2027, 3, 14),
        ends_on=date(2027, 3, 21),
    )

    starts = _local(series.shifts.order_by("starts_at").values_list("starts_at", flat=True), department)
    assert [(s.day, s.hour, s.minute) for s in starts] == [(14, 3, 30), (21, 2, 30)]


def test_extending_again_creates_nothing_new(volunteer, department):
    series, first = _series(volunteer, department, now=BEFORE_FALL_BACK)
    count = series.shifts.count()

    again = roster_services.shift_series_extend(series=series, now=BEFORE_FALL_BACK)
    everything = roster_services.shift_series_extend(now=BEFORE_FALL_BACK)

    assert first.created == count == 8  # the Saturdays from Oct 24 to Dec 12, eight weeks ahead
    assert again == everything == roster_services.Extension(created=0, skipped=0)
    assert series.shifts.count() == count


def test_extending_later_adds_the_weeks_that_came_into_range(volunteer, department):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)
    last_before = series.shifts.order_by("starts_at").last().starts_at

    added = roster_services.shift_series_extend(now=BEFORE_FALL_BACK + timedelta(days=14))

    assert added.created == 2
    assert series.shifts.order_by("starts_at").last().starts_at == last_before + timedelta(days=14)


def test_a_dropped_occurrence_is_not_created_again(volunteer, department):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)
    second = series.shifts.order_by("starts_at")[1]
    roster_services.shift_drop(shift=second, actor=volunteer.user, now=BEFORE_FALL_BACK)

    roster_services.shift_series_extend(now=BEFORE_FALL_BACK + timedelta(days=1))

    assert not Shift.objects.filter(starts_at=second.starts_at).exists()


def test_an_occurrence_that_overlaps_a_shift_already_held_is_skipped(volunteer, department):
    one_off = shift(volunteer, department, datetime(2026, 10, 31, 23, 0, tzinfo=UTC))  # 7 PM–3 AM EDT

    _, extension = _series(volunteer, department, now=BEFORE_FALL_BACK, ends_on=date(2026, 11, 7))

    assert extension == roster_services.Extension(created=2, skipped=1)
    assert Shift.objects.filter(volunteer=volunteer).count() == 3
    assert one_off in Shift.objects.all()


def test_a_series_ending_on_a_day_stops_there(volunteer, department):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK, ends_on=date(2026, 10, 31))

    assert series.shifts.count() == 2
    assert roster_services.shift_series_extend(now=BEFORE_FALL_BACK + timedelta(days=30)).created == 0


def test_inactive_volunteers_series_are_not_extended(volunteer, department):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)
    count = series.shifts.count()
    volunteer.is_active = False
    volunteer.save()

    assert roster_services.shift_series_extend(now=BEFORE_FALL_BACK + timedelta(days=21)).created == 0
    assert series.shifts.count() == count


def test_stopping_a_series_removes_its_future_shifts_and_keeps_the_past(volunteer, department):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)
    first = series.shifts.order_by("starts_at").first()
    in_progress = first.starts_at + timedelta(hours=1)
    total = series.shifts.count()

    deleted = roster_services.shift_series_end(series=series, actor=volunteer.user, now=in_progress)

    series.refresh_from_db()
    assert deleted == total - 1
    assert list(series.shifts.all()) == [first]
    assert series.ends_on == timezone.localdate(in_progress, department.tzinfo)
    assert roster_services.shift_series_extend(now=in_progress + timedelta(days=30)).created == 0
    assert not roster_selectors.active_series(volunteer=volunteer, now=in_progress).exists()


def test_stopping_a_series_that_never_started_deletes_it(volunteer, department, coordinator):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)

    roster_services.shift_series_end(series=series, actor=coordinator, now=BEFORE_FALL_BACK)

    assert not ShiftSeries.objects.exists()
    assert not Shift.objects.exists()


def test_another_departments_coordinator_cannot_stop_a_series(volunteer, department, other_coordinator):
    series, _ = _series(volunteer, department, now=BEFORE_FALL_BACK)
    with pytest.raises(PermissionDenied):
        roster_services.shift_series_end(series=series, actor=other_coordinator, now=BEFORE_FALL_BACK)


def test_coordinator_assigns_a_weekly_shift(volunteer, department, coordinator):
    series, extension = _series(volunteer, department, now=BEFORE_FALL_BACK, by=coordinator)
    assert series.created_by == coordinator
    assert extension.created > 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekday": 7}, "Choose a day of the week."),
        ({"hours": 0}, "at most 24 hours"),
        ({"hours": 25}, "at most 24 hours"),
        ({"starts_on": date(2026, 10, 1)}, "cannot start in the past"),
        ({"starts_on": date(2028, 1, 1)}, "a year ahead"),
        ({"starts_on": date(2026, 10, 26), "ends_on": date(2026, 10, 30)}, "no such day of the week"),
    ],
)
def test_bad_weekly_shifts_are_refused(volunteer, department, changes, message):
    with pytest.raises(ValidationError) as error:
        _series(volunteer, department, now=BEFORE_FALL_BACK, **changes)
    assert message in " ".join(error.value.messages)
    assert not ShiftSeries.objects.exists()


def test_daily_task_extends_every_series_and_is_scheduled(volunteer, department):
    series, _ = _series(volunteer, department, now=timezone.now())
    Shift.objects.filter(series=series).delete()
    ShiftSeries.objects.filter(pk=series.pk).update(materialised_until=None)

    created = extend_shift_series()

    assert created == series.shifts.count()
    assert created in (8, 9)  # every Saturday in the next eight weeks

    app.loader.import_default_modules()
    assert "volunteers.roster.tasks.extend_shift_series" in app.tasks
    assert (
        app.conf.beat_schedule["extend-shift-series"]["task"] == "volunteers.roster.tasks.extend_shift_series"
    )
