"""Dates and times in the words every Harbor page uses, for pages that show hundreds of them (the
live board, a network's roster gaps). Each equals a Django date format (tests compare them over
every minute of days that change clocks, and every month and weekday) without its translation
lookups, which cost more than anything else on those pages; Harbor speaks English only."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def clock_time(moment: datetime, zone: tzinfo) -> str:
    """The time of day on ``zone``'s clock, as "3:04 PM": Django's ``time:"g:i A"``."""
    local = moment.astimezone(zone)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def month_day(day: date) -> str:
    """The day as "Nov 3": Django's ``date:"M j"``."""
    return f"{MONTHS[day.month - 1]} {day.day}"


def weekday_month_day(day: date) -> str:
    """The day as "Mon Nov 3": Django's ``date:"D M j"``."""
    return f"{WEEKDAYS[day.weekday()]} {month_day(day)}"
