"""Pages by phone call: the call says the station's name and "press 1 to accept, 2 to decline";
the key pressed answers through the same services as the web link. Twilio's requests are signed
and posted exactly as Twilio posts them (tests/paging/provider.py); the TwiML is parsed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from intake.models import Intake
from notifications.models import Notification
from volunteers.models import Offer, Volunteer
from volunteers.paging.services import _notify_coordinators, offer_accept, paging_advance

from ..conftest import client_for
from ..factories import PersonFactory, user_with_role
from .conftest import volunteer_on_call, waiting
from .provider import call_answered, key_pressed, spoken, twiml

pytestmark = pytest.mark.django_db

STATION = "Gloucester Police Department"


@pytest.fixture
def caller(department):
    """A volunteer on call who chose to be paged by phone call."""
    return volunteer_on_call(department, name="ada", channels=Volunteer.Channels.VOICE)


@pytest.fixture
def others(department):
    return [volunteer_on_call(department, name=name) for name in ("ben", "cy", "dee")]


@pytest.fixture
def walk_in(department, officer, caller, others, worker, twilio_account):
    """A walk-in whose first wave has gone out: Ada by phone call, two others by text."""
    department.wave_size = 3
    department.save()
    person = PersonFactory(department=department, first_name="Wren", last_name="Zabriskie")
    intake = waiting(department, officer, person=person)
    with worker():
        paging_advance(intake_id=intake.pk)
    assert Offer.objects.filter(intake=intake, volunteer=caller).exists()
    return intake


@pytest.fixture
def call(walk_in, voice_outbox):
    (placed,) = voice_outbox
    return placed


def gather_of(root):
    (gather,) = root.iter("Gather")
    return gather


def test_a_volunteer_who_chose_calls_is_called_not_texted(walk_in, caller, call, sms_outbox):
    assert call.to == str(caller.phone)
    assert str(caller.phone) not in {text.to for text in sms_outbox}
    assert len(sms_outbox) == 2
    notification = Notification.objects.get(channel="voice")
    assert notification.status == "sent"
    assert notification.provider_message_id == call.sid
    assert (
        notification.body
        == f"This is Harbor. Someone needs a companion at {STATION}. Press 1 to accept, or 2 to decline."
    )


def test_the_call_says_only_the_station_and_which_key_to_press(call, caller):
    root = twiml(call_answered(call.call_url, to=str(caller.phone)))

    gather = gather_of(root)
    assert gather.get("numDigits") == "1"
    assert gather.get("method") == "POST"
    assert gather.get("action").startswith("https://harbor.example.org/volunteers/twilio/voice/")
    assert gather.get("action").endswith("/answer/")
    said = spoken(root)
    assert f"Someone needs a companion at {STATION}. Press 1 to accept, or 2 to decline." in said
    assert "Wren" not in said and "Zabriskie" not in said


def test_pressing_1_accepts_like_the_web_link(walk_in, call, caller):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")

    root = twiml(key_pressed(action, "1", to=str(caller.phone)))

    assert spoken(root).startswith(f"Thank you, you are on your way to {STATION}")
    assert root.find("Hangup") is not None
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.COMPANION_ASSIGNED
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.ACCEPTED
    assert set(
        Offer.objects.filter(intake=walk_in).exclude(volunteer=caller).values_list("status", flat=True)
    ) == {Offer.Status.WITHDRAWN}


def test_pressing_2_declines_and_the_next_volunteer_is_paged(walk_in, call, caller, sms_outbox, worker):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")

    with worker():
        root = twiml(key_pressed(action, "2", to=str(caller.phone)))

    assert spoken(root) == "Thank you, we will ask someone else. Goodbye."
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.DECLINED
    replacement = Offer.objects.get(intake=walk_in, source=Offer.Source.DECLINE)
    assert sms_outbox[-1].to == str(replacement.volunteer.phone)


def test_another_key_is_asked_again_and_changes_nothing(walk_in, call, caller):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")

    root = twiml(key_pressed(action, "9", to=str(caller.phone)))

    assert "Press 1 to accept, or 2 to decline." in spoken(root)
    assert gather_of(root).get("action") == action
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.PENDING


def test_a_keypress_on_a_call_with_another_phone_changes_nothing(walk_in, call, caller):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")

    root = twiml(key_pressed(action, "1", to="+16175550123"))

    assert spoken(root) == "This is Harbor. This request is closed. Thank you. Goodbye."
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.PENDING
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.WAITING_FOR_COMPANION


def test_a_forged_keypress_is_refused(walk_in, call, caller):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")

    response = key_pressed(action, "1", to=str(caller.phone), token="not-the-token")

    assert response.status_code == 403
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.PENDING


def test_a_tampered_call_link_says_nothing_about_any_request(walk_in, call, caller):
    response = call_answered(call.call_url.rstrip("/") + "x/", to=str(caller.phone))

    assert spoken(twiml(response)) == "This is Harbor. This request is closed. Thank you. Goodbye."


def test_a_keypress_after_someone_else_accepted_says_so(walk_in, call, caller, others):
    action = gather_of(twiml(call_answered(call.call_url, to=str(caller.phone)))).get("action")
    first = Offer.objects.filter(intake=walk_in).exclude(volunteer=caller).select_related("volunteer").first()
    offer_accept(offer_id=first.pk, volunteer=first.volunteer)

    root = twiml(key_pressed(action, "1", to=str(caller.phone)))

    assert spoken(root) == "Someone else is already on the way. Thank you for answering. Goodbye."
    assert Offer.objects.get(intake=walk_in, volunteer=caller).status == Offer.Status.WITHDRAWN


def test_a_call_answered_after_the_request_was_filled_says_so_and_listens_for_nothing(
    walk_in, call, caller, others
):
    first = Offer.objects.filter(intake=walk_in).exclude(volunteer=caller).select_related("volunteer").first()
    offer_accept(offer_id=first.pk, volunteer=first.volunteer)

    root = twiml(call_answered(call.call_url, to=str(caller.phone)))

    assert not list(root.iter("Gather"))
    assert "Someone else is already on the way" in spoken(root)


def test_the_call_link_is_not_a_web_link(walk_in, call):
    token = call.call_url.rstrip("/").rsplit("/", 1)[1]

    response = client_for(None).get(reverse("volunteers:offer", kwargs={"token": token}))

    assert response.status_code == 400


# --- choosing calls ---------------------------------------------------------------------------


def _in_quiet_hours_now(volunteer: Volunteer, department) -> None:
    """Quiet hours around the present moment on the department's clock."""
    local = timezone.localtime(timezone.now(), department.tzinfo)
    volunteer.quiet_hours_start = (local - timedelta(hours=1)).time().replace(microsecond=0)
    volunteer.quiet_hours_end = (local + timedelta(hours=1)).time().replace(microsecond=0)
    volunteer.save()


def test_text_and_a_call_at_night_calls_in_the_quiet_hours(
    department, officer, worker, twilio_account, sms_outbox, voice_outbox
):
    night_owl = volunteer_on_call(department, name="ada", channels=Volunteer.Channels.SMS_CALL_AT_NIGHT)
    _in_quiet_hours_now(night_owl, department)
    with worker():
        paging_advance(intake_id=waiting(department, officer).pk)

    assert [text.to for text in sms_outbox] == [str(night_owl.phone)]
    assert [placed.to for placed in voice_outbox] == [str(night_owl.phone)]


def test_text_and_a_call_at_night_only_texts_by_day(
    department, officer, worker, twilio_account, sms_outbox, voice_outbox
):
    night_owl = volunteer_on_call(department, name="ada", channels=Volunteer.Channels.SMS_CALL_AT_NIGHT)
    local = timezone.localtime(timezone.now(), department.tzinfo)
    night_owl.quiet_hours_start = (local + timedelta(hours=2)).time().replace(microsecond=0)
    night_owl.quiet_hours_end = (local + timedelta(hours=3)).time().replace(microsecond=0)
    night_owl.save()
    with worker():
        paging_advance(intake_id=waiting(department, officer).pk)

    assert [text.to for text in sms_outbox] == [str(night_owl.phone)]
    assert not voice_outbox


def test_a_volunteer_who_chose_calls_is_told_by_text_that_a_request_was_filled(
    walk_in, call, caller, others, sms_outbox, worker
):
    first = Offer.objects.filter(intake=walk_in).exclude(volunteer=caller).select_related("volunteer").first()
    with worker():
        offer_accept(offer_id=first.pk, volunteer=first.volunteer)

    (filled,) = [text for text in sms_outbox if text.to == str(caller.phone)]
    assert "has been filled by another companion" in filled.body
    assert Notification.objects.filter(channel="voice").count() == 1  # no call to say so


def _preferences(client, **changes):
    data = {
        "phone": "",
        "channels": "voice",
        "languages": ["en"],
        "gender": "",
        "home_town": "Gloucester",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
    }
    data.update(changes)
    return client.post(reverse("volunteers:preferences"), data)


def test_a_volunteer_can_choose_to_be_paged_by_call(volunteer_user):
    client = client_for(volunteer_user)
    page = client.get(reverse("volunteers:preferences")).content.decode()
    assert "Voice call" in page and "a call at night" in page

    response = _preferences(client, phone="(978) 555-0142")

    assert response.status_code == 302
    volunteer_user.volunteer.refresh_from_db()
    assert volunteer_user.volunteer.channels == Volunteer.Channels.VOICE


def test_calls_need_a_phone_number(volunteer_user):
    response = _preferences(client_for(volunteer_user), phone="")

    assert response.status_code == 200
    assert "A phone number is needed to be paged by phone call." in response.content.decode()


def test_a_call_at_night_needs_quiet_hours(volunteer_user):
    response = _preferences(client_for(volunteer_user), phone="(978) 555-0142", channels="sms_night")

    assert response.status_code == 200
    assert "Give your quiet hours" in response.content.decode()
    volunteer_user.volunteer.refresh_from_db()
    assert volunteer_user.volunteer.channels != Volunteer.Channels.SMS_CALL_AT_NIGHT


# --- coordinators -----------------------------------------------------------------------------


def test_coordinators_can_be_escalated_to_by_call(department, officer, worker, voice_outbox):
    coordinator = user_with_role(Role.COORDINATOR, department, username="cora", phone="+19785550177")
    person = PersonFactory(department=department, first_name="Wren", last_name="Zabriskie")
    intake = waiting(department, officer, person=person)

    with worker():
        _notify_coordinators(
            intake=intake,
            kind="nobody_accepted",
            context={"station": STATION, "minutes_waited": 7},
            key="t",
            voice=True,
        )

    (placed,) = voice_outbox
    assert placed.to == "+19785550177"
    assert placed.call_url == ""  # nothing to press: the words are spoken as they are
    assert placed.body.startswith(f"This is Harbor, for coordinators. Nobody has accepted yet at {STATION}.")
    assert Notification.objects.get(channel="voice").recipient == coordinator
