"""How long someone has waited, as every page says it: the desk, the walk-in's page and the live
board agree on the minutes and on the colours (the live board)."""

from __future__ import annotations

from datetime import datetime

from django.utils.timesince import timesince

# A wait turns amber after this many minutes, and red after the second.
WAIT_AMBER, WAIT_RED = 10, 20


def minutes_between(moment: datetime, now: datetime) -> int:
    """Whole minutes from ``moment`` to ``now`` (for "waiting 12 min")."""
    return int((now - moment).total_seconds() // 60)


def wait_class(minutes: int) -> str:
    """The CSS classes of a wait: amber after ``WAIT_AMBER`` minutes, red after ``WAIT_RED``."""
    if minutes >= WAIT_RED:
        return "text-danger fw-bold"
    if minutes >= WAIT_AMBER:
        return "text-warning-emphasis fw-semibold"
    return ""


class _Unit:
    """A unit for ``timesince``'s ``time_strings``, in plain English (Harbor speaks English only):
    Django's own are lazy translations, which cost the live board more than its queries."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __mod__(self, values: dict) -> str:
        number = values["num"]
        return f"{number} {self.name}" if number == 1 else f"{number} {self.name}s"


ENGLISH_UNITS = {name: _Unit(name) for name in ("year", "month", "week", "day", "hour", "minute")}


def elapsed(moment: datetime, now: datetime) -> str:
    """How long ago, as the board shows it: "12 min" under an hour and a half, else Django's
    ``timesince`` ("2 hours, 5 minutes")."""
    minutes = minutes_between(moment, now)
    return f"{minutes} min" if minutes < 90 else timesince(moment, now, time_strings=ENGLISH_UNITS)
