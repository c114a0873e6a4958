"""A volunteer sets how they are paged; a coordinator keeps the vetting record."""

from __future__ import annotations

from datetime import time, timedelta

from django.urls import reverse
from django.utils import timezone

from volunteers.models import Volunteer
from volunteers.paging.matching import rank_volunteers

from ..conftest import client_for
from ..factories import IntakeFactory, ShiftFactory, VolunteerFactory, user_with_role


def _preferences(**overrides) -> dict:
    data = {
        "phone": "(978) 555-0142",
        "channels": "sms",
        "languages": ["en", "es"],
        "gender": "woman",
        "home_town": "Rockport",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
    }
    data.update(overrides)
    return data


def test_volunteer_sets_phone_languages_and_quiet_hours(volunteer_user):
    client = client_for(volunteer_user)

    response = client.post(
        reverse("volunteers:preferences"),
        _preferences(quiet_hours_start="22:00", quiet_hours_end="07:00", call_any_time="on"),
    )

    assert response.status_code == 302
    volunteer = Volunteer.objects.get(user=volunteer_user)
    assert str(volunteer.phone) == "+19785550142"
    assert volunteer.languages == ["en", "es"]
    assert volunteer.quiet_hours_start == time(22) and volunteer.quiet_hours_end == time(7)
    assert volunteer.call_any_time


def test_text_messages_need_a_phone_number(volunteer_user):
    response = client_for(volunteer_user).post(reverse("volunteers:preferences"), _preferences(phone=""))

    assert response.status_code == 200
    assert "A phone number is needed" in response.content.decode()


def test_quiet_hours_need_both_ends(volunteer_user):
    response = client_for(volunteer_user).post(
        reverse("volunteers:preferences"), _preferences(quiet_hours_start="22:00")
    )

    assert "Give both the start and the end" in response.content.decode()
    assert Volunteer.objects.get(user=volunteer_user).quiet_hours_start is None


def test_a_spanish_speaker_is_matched_once_they_add_spanish(volunteer_user, department):
    volunteer = Volunteer.objects.get(user=volunteer_user)
    ShiftFactory(volunteer=volunteer, department=department)
    intake = IntakeFactory(department=department, companion_language="es")
    assert not rank_volunteers(intake=intake)

    client_for(volunteer_user).post(reverse("volunteers:preferences"), _preferences(languages=["es"]))

    assert [c.volunteer for c in rank_volunteers(intake=intake)] == [volunteer]


def test_coordinator_records_vetting_and_the_volunteer_can_be_paged(coordinator, department):
    user = user_with_role("volunteer", department, username="newcomer")
    volunteer = VolunteerFactory(
        user=user,
        background_check_on=None,
        training_completed_on=None,
        confidentiality_agreement_signed_on=None,
    )
    volunteer.departments.add(department)
    assert not volunteer.is_vetted
    today = timezone.localdate()

    response = client_for(coordinator).post(
        reverse("volunteers:vetting", kwargs={"volunteer_id": volunteer.pk}),
        {
            "is_active": "on",
            "background_check_on": (today - timedelta(days=3)).isoformat(),
            "training_completed_on": today.isoformat(),
            "confidentiality_agreement_signed_on": today.isoformat(),
        },
    )

    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.is_vetted


def test_vetting_dates_cannot_be_in_the_future(coordinator, volunteer_user):
    volunteer = Volunteer.objects.get(user=volunteer_user)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client_for(coordinator).post(
        reverse("volunteers:vetting", kwargs={"volunteer_id": volunteer.pk}),
        {
            "is_active": "on",
            "background_check_on": tomorrow,
            "training_completed_on": "",
            "confidentiality_agreement_signed_on": "",
        },
    )

    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.background_check_on != timezone.localdate() + timedelta(days=1)


def test_pausing_a_volunteer_stops_their_pages(coordinator, volunteer_user, department):
    volunteer = Volunteer.objects.get(user=volunteer_user)
    ShiftFactory(volunteer=volunteer, department=department)
    intake = IntakeFactory(department=department)
    assert rank_volunteers(intake=intake)

    client_for(coordinator).post(
        reverse("volunteers:vetting", kwargs={"volunteer_id": volunteer.pk}),
        {
            "background_check_on": volunteer.background_check_on.isoformat(),
            "training_completed_on": volunteer.training_completed_on.isoformat(),
            "confidentiality_agreement_signed_on": volunteer.confidentiality_agreement_signed_on.isoformat(),
        },
    )

    assert not rank_volunteers(intake=intake)
