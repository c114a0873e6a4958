"""A coordinator gives the phone number they are paged on and proves it (and their e-mail) with
a code on /notifications/contact/; then escalations reach them by text as well as e-mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.models import ContactVerification
from notifications.services import notification_send
from notifications.verification import CODE_VALID_FOR
from volunteers.paging.services import paging_advance

from ..conftest import client_for
from ..factories import IntakeFactory

CONTACT = "/notifications/contact/"
SEND = "/notifications/contact/send-code/"
VERIFY = "/notifications/contact/verify/"


@pytest.fixture
def sends(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(
        "notifications.tasks.send_notification.delay", lambda pk: notification_send(notification_id=pk)
    )
    monkeypatch.setattr(
        "volunteers.paging.tasks.page_intake.delay", lambda intake_id: paging_advance(intake_id=intake_id)
    )
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def newcomer(coordinator):
    """A coordinator who has not proved any contact yet."""
    User.objects.filter(pk=coordinator.pk).update(email_verified_at=None)
    coordinator.refresh_from_db()
    return coordinator


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_the_urls_are_named():
    assert reverse("notifications:contact") == CONTACT
    assert reverse("notifications:contact_code_send") == SEND
    assert reverse("notifications:contact_verify") == VERIFY


def test_a_coordinator_adds_a_phone_proves_it_and_is_then_texted(
    newcomer, department, officer, sends, sms_outbox
):
    client = client_for(newcomer)
    page = client.get(CONTACT).content.decode()
    assert "No phone number yet." in page
    assert "E-mail not verified" in page

    response = client.post(CONTACT, {"phone": "(978) 555-9010"})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert str(newcomer.phone) == "+19785559010"
    assert newcomer.phone_verified_at is None
    assert "Phone not verified" in client.get(CONTACT).content.decode()

    with sends():
        assert client.post(SEND, {"channel": "sms"}).status_code == 302
    assert [sms.to for sms in sms_outbox] == ["+19785559010"]
    response = client.post(VERIFY, {"channel": "sms", "code": code_in(sms_outbox[0].body)})
    assert response.status_code == 302
    assert "Phone number verified." in client.get(response["Location"]).content.decode()

    # Nobody is on call for a walk-in: the coordinator is texted at once (not e-mailed: the
    # address is still unproved).
    sms_outbox.clear()
    walk_in = IntakeFactory(department=department, logged_by=officer)
    with sends():
        paging_advance(intake_id=walk_in.pk)
    assert [sms.to for sms in sms_outbox] == ["+19785559010"]
    assert mail.outbox == []


def test_a_coordinator_proves_their_email(newcomer, sends):
    client = client_for(newcomer)
    with sends():
        client.post(SEND, {"channel": "email"})

    response = client.post(VERIFY, {"channel": "email", "code": code_in(mail.outbox[0].body)})

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.email_verified_at is not None


def test_changing_the_number_makes_it_unverified_again(coordinator):
    User.objects.filter(pk=coordinator.pk).update(phone="+19785559010", phone_verified_at=timezone.now())
    client = client_for(coordinator)

    assert client.post(CONTACT, {"phone": "+19785559011"}).status_code == 302

    coordinator.refresh_from_db()
    assert coordinator.phone_verified_at is None

    # Saving the same number again leaves a verified number verified.
    User.objects.filter(pk=coordinator.pk).update(phone_verified_at=timezone.now())
    assert client.post(CONTACT, {"phone": "+19785559011"}).status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.phone_verified_at is not None


def test_a_bad_number_is_refused_with_a_message(coordinator):
    response = client_for(coordinator).post(CONTACT, {"phone": "call me maybe"})

    assert response.status_code == 400
    assert "Enter a valid phone number" in response.content.decode()
    coordinator.refresh_from_db()
    assert not coordinator.phone


def test_asking_for_a_code_with_no_number_is_refused(newcomer):
    response = client_for(newcomer).post(SEND, {"channel": "sms"})

    assert response.status_code == 400
    assert "There is nothing to verify" in response.content.decode()


def test_a_wrong_or_expired_code_is_refused(newcomer, sends):
    client = client_for(newcomer)
    with sends():
        client.post(SEND, {"channel": "email"})
    code = code_in(mail.outbox[0].body)

    wrong = client.post(VERIFY, {"channel": "email", "code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.content.decode()

    with time_machine.travel(timezone.now() + CODE_VALID_FOR + timedelta(seconds=1)):
        expired = client.post(VERIFY, {"channel": "email", "code": code})
    assert expired.status_code == 400
    assert "That code has expired." in expired.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.email_verified_at is None


def test_an_unknown_channel_is_refused(coordinator):
    client = client_for(coordinator)

    assert client.post(SEND, {"channel": "pigeon"}).status_code == 302
    response = client.post(VERIFY, {"channel": "pigeon", "code": "123456"}, follow=True)
    assert "Choose the phone or the e-mail address to verify." in response.content.decode()
    assert not ContactVerification.objects.exists()


def test_desk_officers_and_volunteers_have_no_contact_page(officer, volunteer_user):
    assert client_for(officer).get(CONTACT).status_code == 403
    assert client_for(volunteer_user).post(SEND, {"channel": "sms"}).status_code == 403
