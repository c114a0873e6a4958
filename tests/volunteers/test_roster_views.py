"""The roster pages: a volunteer's own shifts, and the coordinator's roster and assignments."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from volunteers.models import Shift, ShiftSeries
from volunteers.roster import selectors as roster_selectors
from volunteers.roster import services as roster_services

from ..conftest import client_for
from ..factories import DepartmentFactory
from .conftest import make_volunteer, shift


def _soon(department, days: int = 2):
    return timezone.localdate(timezone=department.tzinfo) + timedelta(days=days)


def _local(moment, department):
    return timezone.localtime(moment, department.tzinfo)


def once_data(day, start="22:00", end="06:00", **extra) -> dict:
    return {"once-day": day.isoformat(), "once-start": start, "once-end": end, **extra}


def weekly_data(weekday, starts_on, start="18:00", end="23:00", ends_on="", **extra) -> dict:
    return {
        "weekly-weekday": str(weekday),
        "weekly-start": start,
        "weekly-end": end,
        "weekly-starts_on": starts_on.isoformat(),
        "weekly-ends_on": ends_on,
        **extra,
    }


# --- the volunteer ----------------------------------------------------------------------------


def test_my_shifts_lists_upcoming_shifts_with_drop_buttons(volunteer_client, volunteer, department):
    upcoming = shift(volunteer, department, timezone.now() + timedelta(days=1))
    current = shift(volunteer, department, timezone.now() - timedelta(hours=1))
    shift(volunteer, department, timezone.now() - timedelta(days=2))  # over

    response = volunteer_client.get(reverse("volunteers:my_shifts"))

    assert response.status_code == 200
    assert response.context["shifts"] == [current, upcoming]
    assert reverse("volunteers:shift_drop", kwargs={"shift_id": upcoming.pk}) in response.text
    assert reverse("volunteers:shift_drop", kwargs={"shift_id": current.pk}) not in response.text
    assert "On call now" in response.text
    assert "Sign up for a shift" in response.text
    assert "Sign up every week" in response.text
    assert 'src="/static/js/roster.js"' in response.text
    assert "<script>" not in response.text


def test_volunteer_signs_up_for_an_overnight_shift_in_local_time(volunteer_client, volunteer, department):
    day = _soon(department)
    response = volunteer_client.post(reverse("volunteers:shift_add"), once_data(day))

    assert response.status_code == 302
    created = Shift.objects.get()
    starts, ends = _local(created.starts_at, department), _local(created.ends_at, department)
    assert (starts.date(), starts.time()) == (day, time(22))
    assert (ends.date(), ends.time()) == (day + timedelta(days=1), time(6))
    assert created.volunteer == volunteer


def test_same_start_and_end_time_is_a_24_hour_shift(volunteer_client, department):
    volunteer_client.post(reverse("volunteers:shift_add"), once_data(_soon(department), "08:00", "08:00"))
    created = Shift.objects.get()
    assert roster_selectors.clock_length(created.starts_at, created.ends_at, department.tzinfo) == timedelta(
        hours=24
    )


def test_an_overlapping_sign_up_shows_the_clash_and_saves_nothing(volunteer_client, volunteer, department):
    day = _soon(department)
    volunteer_client.post(reverse("volunteers:shift_add"), once_data(day))

    response = volunteer_client.post(reverse("volunteers:shift_add"), once_data(day, "23:00", "01:00"))

    assert response.status_code == 200
    assert "This overlaps the shift on" in response.text
    assert Shift.objects.count() == 1


def test_volunteer_signs_up_every_week(volunteer_client, volunteer, department):
    starts_on = _soon(department, 1)
    response = volunteer_client.post(
        reverse("volunteers:series_add"), weekly_data(starts_on.weekday(), starts_on, "18:00", "23:30")
    )

    assert response.status_code == 302
    series = ShiftSeries.objects.get()
    assert (series.weekday, series.start_time, series.duration) == (
        starts_on.weekday(),
        time(18),
        timedelta(hours=5, minutes=30),
    )
    assert series.shifts.count() == 8  # eight weeks ahead
    page = volunteer_client.get(reverse("volunteers:my_shifts"))
    assert "Weekly shift added: 8 shifts on the roster so far." in page.text
    assert "6:00 PM – 11:30 PM (5.5 h)" in page.text


def test_department_choice_is_limited_to_the_departments_served(
    volunteer_client, volunteer, department, other_department
):
    page = volunteer_client.get(reverse("volunteers:my_shifts"))
    assert "department" not in page.context["once_form"].fields  # one department: no question

    volunteer.departments.add(other_department)
    page = volunteer_client.get(reverse("volunteers:my_shifts"))
    assert set(page.context["once_form"].fields["department"].queryset) == {department, other_department}

    third = DepartmentFactory(name="Essex Police Department")
    response = volunteer_client.post(
        reverse("volunteers:shift_add"), once_data(_soon(third), **{"once-department": third.pk})
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Shift.objects.exists()


def test_volunteer_of_two_departments_chooses_one(volunteer_client, volunteer, other_department):
    volunteer.departments.add(other_department)
    response = volunteer_client.post(
        reverse("volunteers:shift_add"),
        once_data(_soon(other_department), **{"once-department": other_department.pk}),
    )
    assert response.status_code == 302
    assert Shift.objects.get().department == other_department


def test_volunteer_drops_their_own_shift_from_the_page(volunteer_client, volunteer, department):
    upcoming = shift(volunteer, department, timezone.now() + timedelta(days=1))

    response = volunteer_client.post(reverse("volunteers:shift_drop", kwargs={"shift_id": upcoming.pk}))

    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:my_shifts")
    assert not Shift.objects.exists()


def test_volunteer_cannot_drop_a_started_shift_and_is_told_why(volunteer_client, volunteer, department):
    current = shift(volunteer, department, timezone.now() - timedelta(hours=1))

    response = volunteer_client.post(
        reverse("volunteers:shift_drop", kwargs={"shift_id": current.pk}), follow=True
    )

    assert "already started" in response.text
    assert Shift.objects.exists()


def test_another_volunteers_shift_is_not_found(volunteer_client, department):
    colleague = make_volunteer(department, "colleague")
    theirs = shift(colleague, department, timezone.now() + timedelta(days=1))

    response = volunteer_client.post(reverse("volunteers:shift_drop", kwargs={"shift_id": theirs.pk}))
    assert response.status_code == 404
    series, _ = roster_services.shift_series_create(
        volunteer=colleague,
        department=department,
        weekday=0,
        start_time=time(8),
        duration=timedelta(hours=4),
        starts_on=_soon(department),
        ends_on=None,
        created_by=colleague.user,
    )
    response = volunteer_client.post(reverse("volunteers:series_end", kwargs={"series_id": series.pk}))
    assert response.status_code == 404
    assert Shift.objects.filter(volunteer=colleague).count() > 1


def test_volunteer_stops_their_weekly_shift(volunteer_client, volunteer, department):
    starts_on = _soon(department)
    volunteer_client.post(reverse("volunteers:series_add"), weekly_data(starts_on.weekday(), starts_on))
    series = ShiftSeries.objects.get()

    response = volunteer_client.post(
        reverse("volunteers:series_end", kwargs={"series_id": series.pk}), follow=True
    )

    assert "Weekly shift stopped; 8 upcoming shifts removed." in response.text
    assert not Shift.objects.exists()


def test_unvetted_volunteer_is_told_what_is_missing_and_cannot_sign_up(
    volunteer_client, volunteer, department
):
    volunteer.training_completed_on = None
    volunteer.save()

    page = volunteer_client.get(reverse("volunteers:my_shifts"))
    assert "Your companion training is not recorded yet." in page.text
    assert "Sign up for a shift" not in page.text

    response = volunteer_client.post(reverse("volunteers:shift_add"), once_data(_soon(department)))
    assert response.status_code == 200
    assert "vetting is complete" in response.text
    assert not Shift.objects.exists()


def test_volunteer_user_without_a_profile_is_not_found(department):
    from ..factories import user_with_role

    client = client_for(user_with_role("volunteer", department, username="new-angel"))
    assert client.get(reverse("volunteers:my_shifts")).status_code == 404
    assert client.get(reverse("volunteers:home")).status_code == 200


# --- the coordinator --------------------------------------------------------------------------


def test_roster_lists_the_departments_volunteers_with_vetting(coordinator_client, volunteer, department):
    unvetted = make_volunteer(department, "new-angel", background_check_on=None, training_completed_on=None)
    paused = make_volunteer(department, "resting", is_active=False)
    make_volunteer(DepartmentFactory(name="Essex Police Department"), "elsewhere")
    shift(volunteer, department, timezone.now() + timedelta(days=2))

    response = coordinator_client.get(reverse("volunteers:roster"))

    rows = {row["volunteer"].pk: row["missing"] for row in response.context["volunteers"]}
    assert rows == {
        volunteer.pk: [],
        unvetted.pk: ["No background check on file", "Training not recorded"],
        paused.pk: ["Profile paused"],
    }
    assert "Vetted, active" in response.text
    assert "Not vetted" in response.text
    assert response.context["volunteers"][0]["volunteer"].shifts_in_window in (0, 1)


def test_coordinator_assigns_a_one_off_shift(coordinator_client, coordinator, volunteer, department):
    day = _soon(department, 3)
    page = coordinator_client.get(
        reverse("volunteers:assign"), {"department": department.pk, "day": day.isoformat(), "start": "02:00"}
    )
    assert page.context["form"].initial == {
        "department": str(department.pk),
        "day": day.isoformat(),
        "start": "02:00",
    }

    response = coordinator_client.post(
        reverse("volunteers:assign"),
        {
            "department": department.pk,
            "volunteer": volunteer.pk,
            "day": day,
            "start": "02:00",
            "end": "10:00",
            "repeat": "once",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:coverage") + f"?department={department.pk}"
    created = Shift.objects.get()
    assert (_local(created.starts_at, department).hour, _local(created.ends_at, department).hour) == (2, 10)


def test_coordinator_assigns_a_weekly_shift_on_the_chosen_day(
    coordinator_client, coordinator, volunteer, department
):
    day = _soon(department, 3)
    response = coordinator_client.post(
        reverse("volunteers:assign"),
        {
            "department": department.pk,
            "volunteer": volunteer.pk,
            "day": day,
            "start": "20:00",
            "end": "08:00",
            "repeat": "weekly",
            "until": (day + timedelta(days=14)).isoformat(),
        },
    )

    assert response.status_code == 302
    series = ShiftSeries.objects.get()
    assert (series.weekday, series.duration, series.created_by) == (
        day.weekday(),
        timedelta(hours=12),
        coordinator,
    )
    assert series.shifts.count() == 3


def test_coordinator_cannot_assign_another_departments_volunteer(
    coordinator_client, department, other_department
):
    stranger = make_volunteer(other_department, "stranger")
    response = coordinator_client.post(
        reverse("volunteers:assign"),
        {
            "department": department.pk,
            "volunteer": stranger.pk,
            "day": _soon(department),
            "start": "08:00",
            "end": "16:00",
            "repeat": "once",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Shift.objects.exists()


def test_coordinator_sees_and_drops_a_volunteers_shift(
    coordinator_client, volunteer, department, other_department
):
    volunteer.departments.add(other_department)
    here = shift(volunteer, department, timezone.now() + timedelta(days=1))
    elsewhere = shift(volunteer, other_department, timezone.now() + timedelta(days=2))

    page = coordinator_client.get(
        reverse("volunteers:roster_volunteer", kwargs={"volunteer_id": volunteer.pk})
    )
    assert page.context["shifts"] == [here]

    response = coordinator_client.post(reverse("volunteers:shift_drop", kwargs={"shift_id": here.pk}))
    assert response["Location"] == reverse(
        "volunteers:roster_volunteer", kwargs={"volunteer_id": volunteer.pk}
    )
    assert list(Shift.objects.all()) == [elsewhere]

    response = coordinator_client.post(reverse("volunteers:shift_drop", kwargs={"shift_id": elsewhere.pk}))
    assert response.status_code == 404


def test_coordinator_ends_a_shift_in_progress(coordinator_client, volunteer, department):
    current = shift(volunteer, department, timezone.now() - timedelta(hours=2))
    response = coordinator_client.post(
        reverse("volunteers:shift_drop", kwargs={"shift_id": current.pk}), follow=True
    )
    assert "Shift ended now" in response.text
    current.refresh_from_db()
    assert current.ends_at <= timezone.now()


def test_drop_and_stop_only_by_post(volunteer_client, volunteer, department):
    upcoming = shift(volunteer, department, datetime.now(tz=UTC) + timedelta(days=1))
    assert (
        volunteer_client.get(reverse("volunteers:shift_drop", kwargs={"shift_id": upcoming.pk})).status_code
        == 405
    )


@pytest.mark.parametrize("name", ["volunteers:coverage", "volunteers:roster", "volunteers:assign"])
def test_coordinator_pages_render_for_a_department_without_volunteers(coordinator_client, name):
    assert coordinator_client.get(reverse(name)).status_code == 200
