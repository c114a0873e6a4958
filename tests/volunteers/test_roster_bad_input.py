"""Hostile and malformed input on every roster form and URL: a clear error or a 4xx, never a 500,
and never a partial record."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from volunteers.models import Shift, ShiftSeries
from volunteers.roster import selectors as roster_selectors

from .conftest import make_volunteer

REQUIRED = "This field is required."
INVALID_DATE = "Enter a valid date."
INVALID_TIME = "Enter a valid time."
BAD_CHOICE = "Select a valid choice."
PASSED = "That day has passed."
TOO_FAR = "Shifts can be planned up to a year ahead."
SKIPPED = "The clocks go forward that night"
LONG = "A" * 10_000


def _today() -> date:
    return timezone.localdate()


def _next_skipped_night() -> date:
    """The next day on which 2:30 AM does not exist in Gloucester (clocks go forward)."""
    tz = timezone.get_default_timezone()
    day = _today() + timedelta(days=1)
    while roster_selectors.exists_on_clock(day, time(2, 30), tz):
        day += timedelta(days=1)
    return day


MARKERS = {
    "<today>": lambda: _today().isoformat(),
    "<tomorrow>": lambda: (_today() + timedelta(days=1)).isoformat(),
    "<yesterday>": lambda: (_today() - timedelta(days=1)).isoformat(),
    "<skipped night>": lambda: _next_skipped_night().isoformat(),
}


def _resolve(data: dict) -> dict:
    return {k: MARKERS[v]() if isinstance(v, str) and v in MARKERS else v for k, v in data.items()}


def _refused(response, message: str) -> None:
    assert response.status_code == 200
    assert message in response.text
    assert not Shift.objects.exists()
    assert not ShiftSeries.objects.exists()


ONCE = {"once-day": "<tomorrow>", "once-start": "08:00", "once-end": "16:00"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"once-day": "", "once-start": "", "once-end": ""}, REQUIRED),
        ({"once-day": "2026-13-45"}, INVALID_DATE),
        ({"once-day": "9999-12-31"}, TOO_FAR),
        ({"once-day": "0001-01-01"}, PASSED),
        ({"once-day": "<yesterday>"}, PASSED),
        ({"once-day": LONG}, INVALID_DATE),
        ({"once-day": "2026-06-10\x00"}, INVALID_DATE),
        ({"once-start": "25:00"}, INVALID_TIME),
        ({"once-start": "08:00\x00"}, INVALID_TIME),
        ({"once-end": LONG}, INVALID_TIME),
        ({"once-day": "<today>", "once-start": "00:00", "once-end": "00:01"}, "That time has passed."),
        ({"once-day": "<skipped night>", "once-start": "02:30", "once-end": "08:00"}, SKIPPED),
    ],
)
def test_one_off_sign_up_refuses_bad_input(volunteer_client, overrides, message):
    response = volunteer_client.post(reverse("volunteers:shift_add"), _resolve({**ONCE, **overrides}))
    _refused(response, message)


WEEKLY = {
    "weekly-weekday": "2",
    "weekly-start": "18:00",
    "weekly-end": "23:00",
    "weekly-starts_on": "<tomorrow>",
    "weekly-ends_on": "",
}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"weekly-weekday": "9"}, BAD_CHOICE),
        ({"weekly-weekday": "Tuesday"}, BAD_CHOICE),
        ({"weekly-weekday": ""}, REQUIRED),
        ({"weekly-start": "noon"}, INVALID_TIME),
        ({"weekly-starts_on": "<yesterday>"}, PASSED),
        ({"weekly-starts_on": "9999-12-31"}, TOO_FAR),
        ({"weekly-ends_on": "<today>"}, "The last day cannot be before the first."),
        ({"weekly-ends_on": "31/12/2026"}, INVALID_DATE),
        ({"weekly-ends_on": "<tomorrow>", "weekly-weekday": "<weekday after tomorrow>"}, "no such day"),
    ],
)
def test_weekly_sign_up_refuses_bad_input(volunteer_client, overrides, message):
    if overrides.get("weekly-weekday") == "<weekday after tomorrow>":
        overrides["weekly-weekday"] = str((_today() + timedelta(days=2)).weekday())
    response = volunteer_client.post(reverse("volunteers:series_add"), _resolve({**WEEKLY, **overrides}))
    _refused(response, message)


@pytest.fixture
def two_departments(volunteer, other_department):
    volunteer.departments.add(other_department)


@pytest.mark.parametrize("choice", ["abc", "-1", "99999999999999999999", LONG, ""])
def test_a_bad_department_choice_is_refused(volunteer_client, two_departments, choice):
    response = volunteer_client.post(
        reverse("volunteers:shift_add"), _resolve({**ONCE, "once-department": choice})
    )
    _refused(response, REQUIRED if choice == "" else BAD_CHOICE)


@pytest.fixture
def assign_data(volunteer, department):
    return {
        "volunteer": str(volunteer.pk),
        "day": "<tomorrow>",
        "start": "08:00",
        "end": "16:00",
        "repeat": "once",
        "until": "",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"volunteer": "abc"}, BAD_CHOICE),
        ({"volunteer": "99999999999999999999"}, BAD_CHOICE),
        ({"volunteer": ""}, REQUIRED),
        ({"repeat": "daily"}, BAD_CHOICE),
        ({"repeat": "weekly", "until": "<today>"}, "The last day cannot be before the first."),
        ({"day": "2026-02-30"}, INVALID_DATE),
        ({"start": "8 o'clock"}, INVALID_TIME),
        ({"day": "<skipped night>", "start": "02:30", "end": "08:00"}, SKIPPED),
    ],
)
def test_assigning_refuses_bad_input(coordinator_client, assign_data, overrides, message):
    response = coordinator_client.post(reverse("volunteers:assign"), _resolve({**assign_data, **overrides}))
    _refused(response, message)


def test_assigning_an_unvetted_volunteer_is_refused(coordinator_client, department, assign_data):
    unvetted = make_volunteer(department, "new-angel", training_completed_on=None)
    response = coordinator_client.post(
        reverse("volunteers:assign"), _resolve({**assign_data, "volunteer": str(unvetted.pk)})
    )
    _refused(response, "vetting is complete")


@pytest.mark.parametrize(
    "path",
    [
        "/volunteers/shifts/99999999999999999999/drop/",
        "/volunteers/shifts/weekly/99999999999999999999/end/",
        "/volunteers/roster/volunteers/99999999999999999999/",
    ],
)
def test_huge_ids_are_not_found(coordinator_client, path):
    method = coordinator_client.get if "roster" in path else coordinator_client.post
    assert method(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [{"department": LONG}, {"volunteer": "x"}, {"day": "\x00"}, {"start": LONG}, {"department": "1e9"}],
)
def test_assign_page_ignores_a_bad_prefill(coordinator_client, query):
    assert coordinator_client.get(reverse("volunteers:assign"), query).status_code == 200
