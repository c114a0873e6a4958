"""Delivery receipts: a text is delivered, or it is not, and paging does not wait in silence.

Twilio posts a signed StatusCallback for every text and call (tests/paging/provider.py posts them
exactly so). A text that does not arrive is followed by a phone call; a page that reached the
volunteer on no channel makes the offer unreachable at once: the next candidate is paged and the
coordinators see the volunteer flagged.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from notifications.backends import InMemorySmsBackend, InMemoryVoiceBackend, PermanentSendError
from notifications.models import Notification
from volunteers.models import Offer, Volunteer
from volunteers.paging.services import paging_advance
from volunteers.paging.tasks import sweep_paging

from ..factories import PersonFactory
from .conftest import volunteer_on_call, waiting
from .provider import call_receipt, deliver_receipts, text_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteers(department):
    """Four volunteers on call: the first wave pages three, the fourth is next in line."""
    return [volunteer_on_call(department, name=name) for name in ("ada", "ben", "cy", "dee")]


@pytest.fixture
def walk_in(department, officer, volunteers, worker, twilio_account):
    """A walk-in whose first wave of texts has gone out."""
    person = PersonFactory(department=department, first_name="Wren", last_name="Zabriskie")
    intake = waiting(department, officer, person=person)
    with worker():
        paging_advance(intake_id=intake.pk)
    return intake


def first_paged(walk_in) -> Offer:
    return Offer.objects.filter(intake=walk_in).select_related("volunteer").order_by("pk").first()


def page_text(offer: Offer) -> Notification:
    return Notification.objects.get(offer=offer, kind="offer", channel="sms")


def sid(notification: Notification) -> str:
    return notification.provider_message_id


def log_rows(client, intake) -> list[str]:
    response = client.get(reverse("notifications:intake_log", kwargs={"intake_id": intake.pk}))
    assert response.status_code == 200
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("<tr>")[1:]]


def test_a_delivered_text_shows_as_delivered_in_the_coordinators_log(walk_in, coordinator_client):
    assert {r.status_code for r in deliver_receipts()} == {204}

    rows = log_rows(coordinator_client, walk_in)
    assert len(rows) == 3
    assert all("Delivered" in row and "Text message" in row for row in rows)
    assert set(Notification.objects.values_list("status", flat=True)) == {"delivered"}
    assert all(n.status_changed_at for n in Notification.objects.all())


def test_a_sent_text_waits_for_its_delivery_report_in_the_log(walk_in, coordinator_client):
    rows = log_rows(coordinator_client, walk_in)

    assert all("Sent" in row and "Waiting for the delivery report" in row for row in rows)


def test_a_forged_receipt_is_refused_and_changes_nothing(walk_in):
    text = page_text(first_paged(walk_in))

    response = text_receipt(sid(text), "undelivered", to=text.to, error_code="30006", token="not-the-token")

    assert response.status_code == 403
    text.refresh_from_db()
    assert text.status == "sent"
    assert first_paged(walk_in).status == Offer.Status.PENDING


def test_a_receipt_for_an_unknown_message_is_answered_like_any_other(walk_in):
    before = list(Notification.objects.values_list("pk", "status", "status_changed_at"))

    response = text_receipt("SM" + "f" * 32, "undelivered", to="+19785550999", error_code="30006")

    assert response.status_code == 204
    assert list(Notification.objects.values_list("pk", "status", "status_changed_at")) == before


def test_receipts_only_move_forward_and_a_replay_changes_nothing(walk_in):
    text = page_text(first_paged(walk_in))
    assert text_receipt(sid(text), "delivered", to=text.to).status_code == 204
    text.refresh_from_db()
    delivered_at = text.status_changed_at

    text_receipt(sid(text), "delivered", to=text.to)  # replayed
    text_receipt(sid(text), "sent", to=text.to)  # a late "sent"
    text_receipt(sid(text), "undelivered", to=text.to, error_code="30006")

    text.refresh_from_db()
    assert (text.status, text.status_changed_at, text.provider_error_code) == ("delivered", delivered_at, "")
    assert first_paged(walk_in).status == Offer.Status.PENDING
    assert not InMemoryVoiceBackend.outbox


def test_an_undelivered_text_is_followed_by_a_call_for_the_same_request(
    walk_in, worker, voice_outbox, coordinator_client
):
    offer = first_paged(walk_in)
    InMemorySmsBackend.undeliverable.add(str(offer.volunteer.phone))

    with worker():
        deliver_receipts()

    (call,) = voice_outbox
    assert call.to == str(offer.volunteer.phone)
    assert "/volunteers/twilio/voice/" in call.call_url
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING  # the call may still reach them
    assert Offer.objects.filter(intake=walk_in).count() == 3
    rows = log_rows(coordinator_client, walk_in)
    assert any("Not delivered" in row and "Carrier error 30006" in row for row in rows)
    assert any("Voice call" in row for row in rows)


def test_when_neither_text_nor_call_arrives_the_next_volunteer_is_paged_at_once(
    walk_in, worker, volunteers, sms_outbox, voice_outbox, coordinator_client
):
    offer = first_paged(walk_in)
    phone = str(offer.volunteer.phone)
    InMemorySmsBackend.undeliverable.add(phone)
    InMemoryVoiceBackend.unanswered.add(phone)
    with worker():
        deliver_receipts()  # the text comes back undelivered: a call is placed
    with worker():
        deliver_receipts()  # nobody answers the call

    offer.refresh_from_db()
    assert offer.status == Offer.Status.UNREACHABLE
    replacement = Offer.objects.get(intake=walk_in, source=Offer.Source.UNREACHABLE)
    assert replacement.status == Offer.Status.PENDING
    assert replacement.volunteer not in {o.volunteer for o in Offer.objects.exclude(pk=replacement.pk)}
    assert sms_outbox[-1].to == str(replacement.volunteer.phone)
    volunteer = Volunteer.objects.get(pk=offer.volunteer_id)
    assert volunteer.unreachable_since == offer.responded_at

    panel = coordinator_client.get(reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk}))
    text = " ".join(re.sub(r"<[^>]+>", " ", panel.content.decode()).split())
    assert "Unreachable since" in text
    assert "No text or call reached them" in text
    roster = coordinator_client.get(reverse("volunteers:roster"))
    assert "Unreachable since" in roster.content.decode()
    assert any("Not answered" in row for row in log_rows(coordinator_client, walk_in))


def test_a_volunteer_paged_by_call_only_who_does_not_answer_is_unreachable(
    department, officer, worker, twilio_account, voice_outbox, sms_outbox
):
    caller = volunteer_on_call(department, name="ada", channels=Volunteer.Channels.VOICE)
    volunteer_on_call(department, name="ben", on_shift=False)  # not on call: nobody else to page
    intake = waiting(department, officer)
    with worker():
        paging_advance(intake_id=intake.pk)
    (call,) = voice_outbox
    assert not sms_outbox

    with worker():
        call_receipt(call.sid, "busy", to=call.to)

    assert Offer.objects.get(intake=intake, volunteer=caller).status == Offer.Status.UNREACHABLE
    assert Notification.objects.get(channel="voice").status == "undelivered"


def test_a_message_delivered_again_clears_the_flag(walk_in, worker, coordinator_client):
    offer = first_paged(walk_in)
    phone = str(offer.volunteer.phone)
    InMemorySmsBackend.undeliverable.add(phone)
    InMemoryVoiceBackend.unanswered.add(phone)
    with worker():
        deliver_receipts()
    with worker():
        deliver_receipts()
    assert Volunteer.objects.get(pk=offer.volunteer_id).unreachable_since is not None

    # Later they are paged for another walk-in, and this time the text arrives.
    department = walk_in.department
    department.wave_size = 4
    department.save()
    InMemorySmsBackend.undeliverable.clear()
    with worker():
        paging_advance(intake_id=waiting(department, walk_in.logged_by).pk)
    with worker():
        deliver_receipts()

    assert Volunteer.objects.get(pk=offer.volunteer_id).unreachable_since is None
    roster = coordinator_client.get(reverse("volunteers:roster"))
    assert "Unreachable since" not in roster.content.decode()


def test_a_text_the_provider_refuses_outright_is_followed_by_a_call_within_a_sweep(
    department, officer, volunteers, worker, twilio_account, monkeypatch, voice_outbox
):
    """No receipt ever comes for a text the provider refused at once (an invalid number): the
    paging sweep, every few seconds, acts on it as a receipt would."""
    refused = str(volunteers[0].phone)
    send = InMemorySmsBackend.send

    def refusing(self, *, to, body, idempotency_key):
        if to == refused:
            raise PermanentSendError("Twilio 400 code 21211")
        return send(self, to=to, body=body, idempotency_key=idempotency_key)

    monkeypatch.setattr(InMemorySmsBackend, "send", refusing)
    intake = waiting(department, officer)
    with worker():
        paging_advance(intake_id=intake.pk)
    assert Notification.objects.get(to=refused, channel="sms").status == "failed"
    assert not voice_outbox

    with worker():
        sweep_paging()

    (call,) = voice_outbox
    assert call.to == refused
    with worker():
        sweep_paging()  # a second sweep changes nothing: the call is on its way
    assert len(voice_outbox) == 1


def test_an_unreachable_volunteer_who_opens_the_link_later_is_told_why(walk_in, worker):
    from volunteers.paging.tokens import offer_link

    from ..conftest import client_for

    offer = first_paged(walk_in)
    phone = str(offer.volunteer.phone)
    InMemorySmsBackend.undeliverable.add(phone)
    InMemoryVoiceBackend.unanswered.add(phone)
    with worker():
        deliver_receipts()
    with worker():
        deliver_receipts()

    response = client_for(offer.volunteer.user).get(offer_link(offer))

    assert "We could not reach you in time, so we asked someone else." in response.content.decode()
