"""Someone under 18: a guardian's consent before we continue, but never before an ambulance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake, Person

from ..factories import IntakeFactory, PersonFactory
from .helpers import edit_data, walk_in_data


def test_minor_who_needs_emergency_care_is_recorded_at_once_without_a_guardian(officer_client):
    response = officer_client.post(
        reverse("intake:create"),
        walk_in_data(first_name="Wren", approximate_age="16", needs_emergency_care="on"),
        follow=True,
    )

    assert "Call EMS now (911)" in response.content.decode()
    intake = Intake.objects.get()
    assert intake.under_18
    assert intake.status == Intake.Status.CLOSED
    assert intake.close_reason == Intake.CloseReason.MEDICAL_TRANSFER
    assert intake.guardian_consent_at is None
    assert intake.companion_needed_at is None


def test_minor_who_needs_no_emergency_care_still_needs_a_guardian(officer_client):
    response = officer_client.post(reverse("intake:create"), walk_in_data(approximate_age="16"))

    assert response.status_code == 200
    assert "needs a parent or guardian" in response.content.decode()
    assert not Intake.objects.exists()


@pytest.fixture
def adult_walk_in(officer, department):
    person = PersonFactory(department=department, first_name="Okafor", date_of_birth=date(1990, 1, 1))
    return IntakeFactory(department=department, person=person, logged_by=officer)


def test_correcting_the_date_of_birth_to_a_minor_asks_for_the_guardian(officer_client, adult_walk_in):
    url = reverse("intake:edit", kwargs={"intake_id": adult_walk_in.pk})
    minor_birthday = (timezone.localdate() - timedelta(days=15 * 365)).isoformat()

    response = officer_client.post(url, edit_data(adult_walk_in, **{"person-date_of_birth": minor_birthday}))

    assert response.status_code == 200
    assert "This person is under 18" in response.content.decode()
    adult_walk_in.refresh_from_db()
    assert not adult_walk_in.under_18
    assert Person.objects.get().date_of_birth == date(1990, 1, 1), "nothing is saved"


def test_correcting_the_date_of_birth_to_a_minor_with_guardian_consent_saves(officer_client, adult_walk_in):
    url = reverse("intake:edit", kwargs={"intake_id": adult_walk_in.pk})
    minor_birthday = (timezone.localdate() - timedelta(days=15 * 365)).isoformat()
    data = edit_data(
        adult_walk_in,
        **{
            "person-date_of_birth": minor_birthday,
            "intake-guardian_name": "Ines Okafor",
            "intake-guardian_relationship": "Aunt",
            "intake-guardian_consent": "on",
        },
    )

    response = officer_client.post(url, data)

    assert response.status_code == 302
    adult_walk_in.refresh_from_db()
    assert adult_walk_in.under_18
    assert adult_walk_in.guardian_name == "Ines Okafor"
    assert adult_walk_in.guardian_consent_at is not None
