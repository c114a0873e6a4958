"""A volunteer proves their phone number and e-mail address with a code, on their settings page;
a changed number is unverified again; and "Send me a test page" shows its delivery."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from notifications.models import ContactVerification, Notification
from notifications.services import notification_send
from notifications.verification import CODE_VALID_FOR, MAX_WRONG_CODES, RESEND_AFTER
from volunteers.models import Volunteer

from ..conftest import client_for
from ..factories import VolunteerFactory, user_with_role

PREFERENCES = "/volunteers/preferences/"
SEND = "/volunteers/preferences/send-code/"
VERIFY = "/volunteers/preferences/verify/"
TEST_PAGE = "/volunteers/preferences/test-page/"


@pytest.fixture
def sends(monkeypatch, django_capture_on_commit_callbacks):
    """``with sends(): …`` sends on commit what the block writes, as the Celery worker would."""
    monkeypatch.setattr(
        "notifications.tasks.send_notification.delay", lambda pk: notification_send(notification_id=pk)
    )
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def newcomer(department) -> Volunteer:
    """A volunteer who has typed in a phone number and has an e-mail address, neither proved."""
    user = user_with_role(Role.VOLUNTEER, department, username="newcomer", unverified=True)
    volunteer = VolunteerFactory(user=user, phone="+19785550142", unverified=True)
    volunteer.departments.add(department)
    return volunteer


@pytest.fixture
def client(newcomer):
    return client_for(newcomer.user)


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def texted_code(sms_outbox, to: str) -> str:
    return code_in([sms.body for sms in sms_outbox if sms.to == to][-1])


def ask_for_code(client, sends, channel="sms"):
    with sends():
        return client.post(SEND, {"channel": channel})


def test_the_urls_are_named():
    assert reverse("volunteers:contact_code_send") == SEND
    assert reverse("volunteers:contact_verify") == VERIFY
    assert reverse("volunteers:test_page") == TEST_PAGE


def test_the_home_page_says_they_cannot_be_paged_until_they_verify(client, newcomer, volunteer_user):
    page = client.get("/volunteers/").content.decode()

    assert "We cannot page you yet" in page
    assert 'href="/volunteers/preferences/#contact-methods"' in page
    assert 'id="contact-unverified"' not in client_for(volunteer_user).get("/volunteers/").content.decode()


def test_the_settings_page_says_what_is_not_verified(client):
    page = client.get(PREFERENCES).content.decode()

    assert "Phone not verified" in page
    assert "E-mail not verified" in page
    assert "Text me a code" in page
    assert "E-mail me a code" in page
    assert "Send me a test page" not in page  # nothing verified to send it to


def test_a_texted_code_verifies_the_phone(client, newcomer, sends, sms_outbox):
    response = ask_for_code(client, sends)

    assert response.status_code == 302
    assert [sms.to for sms in sms_outbox] == ["+19785550142"]
    code = texted_code(sms_outbox, "+19785550142")
    stored = ContactVerification.objects.get(user=newcomer.user)
    assert code not in stored.code_hash  # only a keyed hash is kept
    # ...and the outbox row forgets the text once it has gone (the code is nowhere in the database).
    assert Notification.objects.get(kind="verify_contact").body == ""
    page = client.get(PREFERENCES).content.decode()
    assert "Code we sent to +19785550142" in page

    response = client.post(VERIFY, {"channel": "sms", "code": code})

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "Phone number verified" in page
    assert "Phone not verified" not in page
    assert "Send me a test page" in page


def test_an_emailed_code_verifies_the_address(client, newcomer, sends):
    ask_for_code(client, sends, channel="email")

    assert [message.to for message in mail.outbox] == [["newcomer@example.org"]]
    code = code_in(mail.outbox[0].body)
    response = client.post(VERIFY, {"channel": "email", "code": f"{code[:3]} {code[3:]}"})  # typed in two

    assert response.status_code == 302
    newcomer.user.refresh_from_db()
    assert newcomer.user.email_verified_at is not None
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None  # the phone is proved on its own


def test_a_wrong_code_is_refused_clearly_and_counted(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    response = client.post(VERIFY, {"channel": "sms", "code": wrong})

    assert response.status_code == 400
    assert "That code is not right. 4 tries left." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None
    assert ContactVerification.objects.get(user=newcomer.user).attempts == 1


def test_five_wrong_codes_kill_the_code(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_WRONG_CODES):
        client.post(VERIFY, {"channel": "sms", "code": wrong})

    response = client.post(VERIFY, {"channel": "sms", "code": code})  # the right one, too late

    assert response.status_code == 400
    assert "Too many wrong codes. Ask for a new code." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None


def test_an_expired_code_is_refused(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")

    with time_machine.travel(timezone.now() + CODE_VALID_FOR + timedelta(seconds=1)):
        response = client.post(VERIFY, {"channel": "sms", "code": code})

    assert response.status_code == 400
    assert "That code has expired. Ask for a new code." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None


def test_a_code_is_good_once(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")
    client.post(VERIFY, {"channel": "sms", "code": code})

    response = client.post(VERIFY, {"channel": "sms", "code": code})

    assert response.status_code == 400
    assert "That code has been used already" in response.content.decode()


def test_a_code_that_is_not_six_digits_is_refused(client, newcomer):
    response = client.post(VERIFY, {"channel": "sms", "code": "12ab"})

    assert response.status_code == 400
    assert "Enter the 6-digit code we sent you." in response.content.decode()


def test_a_code_before_any_was_sent_is_refused(client, newcomer):
    response = client.post(VERIFY, {"channel": "sms", "code": "123456"})

    assert response.status_code == 400
    assert "No code was sent to this number or address" in response.content.decode()


def test_asking_again_at_once_is_throttled_then_allowed(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)

    response = ask_for_code(client, sends)

    assert response.status_code == 429
    assert "Please wait" in response.content.decode()
    assert len(sms_outbox) == 1
    with time_machine.travel(timezone.now() + RESEND_AFTER + timedelta(seconds=1)):
        assert ask_for_code(client, sends).status_code == 302
    assert len(sms_outbox) == 2


def test_a_new_code_ends_the_old_one(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    old = texted_code(sms_outbox, "+19785550142")
    with time_machine.travel(timezone.now() + RESEND_AFTER + timedelta(seconds=1)):
        ask_for_code(client, sends)
        new = texted_code(sms_outbox, "+19785550142")
        if old == new:
            pytest.skip("the two random codes happen to be the same")

        assert client.post(VERIFY, {"channel": "sms", "code": old}).status_code == 400
        assert client.post(VERIFY, {"channel": "sms", "code": new}).status_code == 302


def test_a_code_sent_to_the_old_number_does_not_verify_a_new_one(client, newcomer, sends, sms_outbox):
    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")
    Volunteer.objects.filter(pk=newcomer.pk).update(phone="+19785550143")

    response = client.post(VERIFY, {"channel": "sms", "code": code})

    assert response.status_code == 400
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None


def test_a_number_changed_while_the_right_code_is_checked_is_not_verified(
    client, newcomer, sends, sms_outbox
):
    """The code proves the number it was sent to; if the number changes between the check and the
    save, nothing is recorded and the volunteer is told so (not "verified")."""
    from volunteers.roster.services import volunteer_contact_confirm

    ask_for_code(client, sends)
    code = texted_code(sms_outbox, "+19785550142")
    stale = Volunteer.objects.select_related("user").get(pk=newcomer.pk)  # read before the change
    Volunteer.objects.filter(pk=newcomer.pk).update(phone="+19785550143")

    assert volunteer_contact_confirm(volunteer=stale, channel="sms", code=code) is False
    newcomer.refresh_from_db()
    assert newcomer.phone_verified_at is None


def test_changing_the_number_makes_it_unverified(department, volunteer_user, sends):
    client = client_for(volunteer_user)
    volunteer = volunteer_user.volunteer
    assert volunteer.phone_verified_at is not None
    form = client.get(PREFERENCES).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data.update({"phone": "+19785550177", "languages": ["en"], "channels": "sms"})

    response = client.post(PREFERENCES, data)

    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert str(volunteer.phone) == "+19785550177"
    assert volunteer.phone_verified_at is None
    page = client.get(PREFERENCES).content.decode()
    assert "Verify your phone number below" in page
    assert "Phone not verified" in page


def test_saving_the_same_number_keeps_it_verified(volunteer_user):
    client = client_for(volunteer_user)
    volunteer = volunteer_user.volunteer
    data = {"phone": str(volunteer.phone), "languages": ["en"], "channels": "sms"}

    assert client.post(PREFERENCES, data).status_code == 302

    volunteer.refresh_from_db()
    assert volunteer.phone_verified_at is not None


# --- "Send me a test page" --------------------------------------------------------------------


def test_a_test_page_goes_by_each_verified_channel_and_shows_its_delivery(volunteer_user, sends, sms_outbox):
    client = client_for(volunteer_user)
    Volunteer.objects.filter(pk=volunteer_user.volunteer.pk).update(channels=Volunteer.Channels.SMS)

    with sends():
        response = client.post(TEST_PAGE)

    assert response.status_code == 302
    assert [sms.to for sms in sms_outbox] == ["+19785550100"]
    assert "test page" in sms_outbox[0].body
    assert [message.to for message in mail.outbox] == [["volunteer@example.org"]]
    page = client.get(PREFERENCES).content.decode()
    statuses = re.findall(r'class="test-page-status" data-status="(\w+)">(\w+)<', page)
    assert statuses == [("sent", "Sent"), ("sent", "Sent")]


def test_a_test_page_not_yet_sent_shows_pending(volunteer_user, monkeypatch):
    monkeypatch.setattr("notifications.tasks.send_notification.delay", lambda pk: None)
    client = client_for(volunteer_user)
    client.post(TEST_PAGE)

    page = client.get(PREFERENCES).content.decode()

    assert 'data-status="pending">Pending<' in page
    assert 'hx-trigger="every 3s"' in page  # it refreshes itself until delivered
    refreshed = client.get(PREFERENCES, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="test-pages")
    assert refreshed.content.decode().lstrip().startswith('<section class="card mb-4" id="test-pages"')


def test_a_failed_test_page_says_so(volunteer_user, sends):
    client = client_for(volunteer_user)
    with sends():
        client.post(TEST_PAGE)
    Notification.objects.filter(kind="test_page", channel="sms").update(status="failed")

    page = client.get(PREFERENCES).content.decode()

    assert 'data-status="failed">Failed<' in page
    assert "it did not reach you" in page


def test_an_unverified_number_gets_no_test_page(client, newcomer, sms_outbox, sends):
    with sends():
        response = client.post(TEST_PAGE)

    assert response.status_code == 409
    assert "Verify your phone number or e-mail address first" in response.content.decode()
    assert sms_outbox == []
    assert not Notification.objects.filter(kind="test_page").exists()


def test_a_second_test_page_within_a_minute_is_refused(volunteer_user, sends, sms_outbox):
    client = client_for(volunteer_user)
    with sends():
        client.post(TEST_PAGE)
        response = client.post(TEST_PAGE)

    assert response.status_code == 409
    assert "less than a minute ago" in response.content.decode()
    assert Notification.objects.filter(kind="test_page").count() == 2  # one by text, one by e-mail
