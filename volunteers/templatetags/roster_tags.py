"""Small display helpers for the roster pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import template

register = template.Library()


@register.filter
def clock_end(start: time, duration: timedelta) -> time:
    """The clock time a weekly shift ends: ``{{ s.start_time|clock_end:s.duration }}``."""
    return (datetime.combine(date.min, start) + duration).time()


@register.filter
def hours(duration: timedelta) -> str:
    """A duration in hours, without a needless ".0" (8, 7.5)."""
    value = round(duration.total_seconds() / 3600, 1)
    return f"{value:g}"


@register.filter
def hour_label(hour: int) -> str:
    """0 → "12a", 13 → "1p": compact column headings for the coverage grid."""
    return f"{hour % 12 or 12}{'a' if hour < 12 else 'p'}"


@register.filter
def clock_hour_after(hour: int, hours: int) -> str:
    """The clock time ``hours`` after ``hour`` o'clock, as "HH:00" (a default shift end)."""
    return f"{(int(hour) + int(hours)) % 24:02d}:00"
