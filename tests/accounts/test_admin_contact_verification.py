"""An administrator who changes someone's e-mail or phone in the admin makes it unverified: pages
stop going there until its owner enters the code we send. The verified times are read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import client_for

from .test_admin import _change_data, _user_url


@pytest.fixture
def admin_client(administrator):
    return client_for(administrator)


def test_changing_the_email_in_the_admin_unverifies_it(admin_client, officer):
    assert officer.email_verified_at is not None

    response = admin_client.post(_user_url(officer), _change_data(officer, email="new@example.org"))

    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.email == "new@example.org"
    assert officer.email_verified_at is None


def test_saving_the_same_email_keeps_it_verified(admin_client, officer):
    admin_client.post(_user_url(officer), _change_data(officer, first_name="Renamed"))

    officer.refresh_from_db()
    assert officer.first_name == "Renamed"
    assert officer.email_verified_at is not None


def test_the_verified_times_cannot_be_posted(admin_client, officer):
    page = admin_client.get(_user_url(officer)).content.decode()
    assert 'name="email_verified_at"' not in page

    admin_client.post(
        _user_url(officer),
        _change_data(officer, email="new@example.org", email_verified_at="2026-01-01 00:00"),
    )

    officer.refresh_from_db()
    assert officer.email_verified_at is None


def test_changing_a_volunteers_phone_in_the_admin_unverifies_it(volunteer_user):
    operator = volunteer_user.__class__.objects.create_superuser("operator", "operator@example.org", "x" * 20)
    client = client_for(operator)
    volunteer = volunteer_user.volunteer
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data.update(
        {
            "user": volunteer_user.pk,
            "departments": [d.pk for d in volunteer.departments.all()],
            "phone": "+19785550188",
            "languages": ["en"],
            "channels": "sms",
            "is_active": "on",
        }
    )
    for name in ("background_check_on", "training_completed_on", "confidentiality_agreement_signed_on"):
        data[name] = getattr(volunteer, name).isoformat()

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    volunteer.refresh_from_db()
    assert str(volunteer.phone) == "+19785550188"
    assert volunteer.phone_verified_at is None
