"""The page reaches a volunteer, who accepts from their phone and arrives."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from intake.models import Intake
from notifications.services import notification_send
from volunteers.models import Offer

from ..conftest import client_for
from ..factories import ShiftFactory, VolunteerFactory, user_with_role
from ..intake.helpers import walk_in_data


@pytest.fixture
def on_call_volunteers(department):
    volunteers = []
    for name in ("ada", "ben", "cy", "dee"):
        user = user_with_role("volunteer", department, username=name)
        volunteer = VolunteerFactory(user=user, phone=f"+1978555{len(volunteers):04d}")
        volunteer.departments.add(department)
        ShiftFactory(volunteer=volunteer, department=department)
        volunteers.append(volunteer)
    return volunteers


def _log_walk_in(client, django_capture_on_commit_callbacks, monkeypatch):
    """Post the quick form; run what is queued on commit as the worker would, synchronously."""
    monkeypatch.setattr("volunteers.tasks.page_intake.delay", lambda intake_id: _page(intake_id))
    monkeypatch.setattr(
        "notifications.tasks.send_notification.delay", lambda pk: notification_send(notification_id=pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("intake:create"), walk_in_data(first_name="Wren"))
    assert response.status_code == 302
    return Intake.objects.get()


def _page(intake_id):
    from volunteers.services import paging_advance

    paging_advance(intake_id=intake_id)


def test_first_wave_texts_three_volunteers_with_no_personal_details(
    officer_client, on_call_volunteers, sms_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)

    assert Offer.objects.filter(intake=intake, wave=1).count() == 3
    assert len(sms_outbox) == 3
    for sms in sms_outbox:
        assert "Gloucester Police Department" in sms.body
        assert "Wren" not in sms.body
        assert "/volunteers/offers/" in sms.body


def test_volunteer_accepts_from_the_link_and_marks_arrival(
    officer_client, on_call_volunteers, sms_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)
    first_sms = sms_outbox[0]
    link = re.search(r"https?://\S+/volunteers/offers/\S+/", first_sms.body).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]
    offer = Offer.objects.get(volunteer__phone=first_sms.to)

    anonymous = client_for(None)
    page = anonymous.get("/" + path)
    assert page.status_code == 200
    assert "Someone needs a companion" in page.content.decode()
    assert "Wren" not in page.content.decode()

    phone = client_for(offer.volunteer.user)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = phone.post("/" + path, {"answer": "accept"})
    assert accepted.status_code == 302
    assignment = phone.get(accepted["Location"])
    assert "Wren" in assignment.content.decode()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ASSIGNED
    assert Offer.objects.filter(intake=intake, status=Offer.Status.WITHDRAWN).count() == 2
    assert sum("has been filled" in sms.body for sms in sms_outbox) == 2

    phone.post(reverse("volunteers:assignment_arrived", kwargs={"offer_id": offer.pk}))
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ARRIVED
