"""The volunteer's private calendar feed (iCalendar at a secret URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from volunteers.models import Volunteer

from .conftest import make_volunteer, shift


def _feed_url(volunteer: Volunteer) -> str:
    return reverse("volunteers:calendar_feed", kwargs={"token": volunteer.calendar_token})


def _events(response) -> list:
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    return sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("DTSTART"))


def test_feed_is_valid_icalendar_with_the_volunteers_shifts(client: Client, volunteer, department):
    now = timezone.now()
    tomorrow = shift(volunteer, department, now + timedelta(days=1))
    last_week = shift(volunteer, department, now - timedelta(days=7))
    shift(volunteer, department, now - timedelta(days=40))  # older than 30 days: left out
    shift(make_volunteer(department, "colleague"), department, now + timedelta(days=1))  # not theirs

    response = client.get(_feed_url(volunteer))

    assert response.status_code == 200
    events = _events(response)
    assert [str(event["UID"]) for event in events] == [
        f"shift-{last_week.pk}@harbor.localhost",
        f"shift-{tomorrow.pk}@harbor.localhost",
    ]
    event = events[1]
    assert str(event["SUMMARY"]) == "On call — Gloucester Police Department"
    assert str(event["LOCATION"]) == "197 Main Street, Gloucester, MA 01930"
    assert event.decoded("DTSTART") == tomorrow.starts_at.replace(microsecond=0)  # iCalendar has seconds
    assert event.decoded("DTEND") == tomorrow.ends_at.replace(microsecond=0)
    assert "DTSTAMP" in event


def test_uids_stay_the_same_between_fetches(client, volunteer, department):
    shift(volunteer, department, timezone.now() + timedelta(days=1))
    first = [str(e["UID"]) for e in _events(client.get(_feed_url(volunteer)))]
    second = [str(e["UID"]) for e in _events(client.get(_feed_url(volunteer)))]
    assert first == second


def test_feed_carries_nothing_about_people_helped_or_the_volunteer(client, volunteer, department):
    shift(volunteer, department, timezone.now() + timedelta(days=1))
    text = client.get(_feed_url(volunteer)).content.decode()
    assert volunteer.user.last_name not in text
    assert str(volunteer.phone) not in text
    assert "intake" not in text.lower()


def test_empty_feed_is_still_a_valid_calendar(client, volunteer):
    assert _events(client.get(_feed_url(volunteer))) == []


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 200, "../../etc"])
def test_unknown_token_is_not_found(client, volunteer, token):
    assert client.get(f"/volunteers/calendar/{token}.ics").status_code == 404


def test_a_paused_volunteers_feed_is_not_found(client, volunteer):
    volunteer.is_active = False
    volunteer.save()
    assert client.get(_feed_url(volunteer)).status_code == 404


def test_new_secret_link_invalidates_the_old_one(volunteer_client, client, volunteer):
    old_url = _feed_url(volunteer)

    response = volunteer_client.post(reverse("volunteers:calendar_rotate"), follow=True)

    volunteer.refresh_from_db()
    assert client.get(old_url).status_code == 404
    assert client.get(_feed_url(volunteer)).status_code == 200
    assert "new secret link" in response.text
    assert _feed_url(volunteer) in response.text


def test_my_shifts_shows_the_feed_link_and_a_subscribe_link(volunteer_client, volunteer):
    page = volunteer_client.get(reverse("volunteers:my_shifts")).text
    assert f"http://127.0.0.1:8000{_feed_url(volunteer)}" in page
    assert f"webcal://127.0.0.1:8000{_feed_url(volunteer)}" in page
    assert "data-copy-target" in page


def test_feed_answers_head_but_not_post(client, volunteer):
    assert client.head(_feed_url(volunteer)).status_code == 200
    assert client.post(_feed_url(volunteer)).status_code in (403, 405)  # CSRF or method
