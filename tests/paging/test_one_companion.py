"""One companion, one person: a volunteer already with someone cannot accept another walk-in.

The volunteer answers as they would: from the link in their text, or by texting YES.
"""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from twilio.request_validator import RequestValidator

from intake.models import Intake
from notifications.models import Notification
from volunteers.models import Offer
from volunteers.paging.services import companion_release, offer_accept, paging_advance
from volunteers.paging.tokens import offer_token

from ..conftest import client_for
from ..factories import OfferFactory
from .conftest import minutes, volunteer_on_call, waiting

pytestmark = pytest.mark.django_db

BUSY_TEXT = (
    "You are already with someone at Gloucester Police Department; finish or hand that one back first."
)


@pytest.fixture
def volunteers(department):
    """Four on shift: each first wave pages the first three; the fourth is next in line."""
    return [volunteer_on_call(department) for _ in range(4)]


@pytest.fixture
def two_walk_ins(department, officer, volunteers, worker, sms_outbox):
    """Two walk-ins logged a minute apart; the first three volunteers are paged for both."""
    first, second = waiting(department, officer), waiting(department, officer)
    with worker():
        paging_advance(intake_id=first.pk, now=minutes(first, 0))
        paging_advance(intake_id=second.pk, now=minutes(first, 1))
    sms_outbox.clear()
    return first, second


def offer_of(intake, volunteer) -> Offer:
    return Offer.objects.get(intake=intake, volunteer=volunteer)


def press(volunteer, offer: Offer, answer: str = "accept"):
    return client_for(volunteer.user).post(
        reverse("volunteers:offer", kwargs={"token": offer_token(offer)}), {"answer": answer}
    )


def texts_to(sms_outbox, someone) -> list[str]:
    return [sms.body for sms in sms_outbox if sms.to == str(someone.phone)]


def test_accepting_withdraws_the_volunteers_other_pages_and_pages_the_next_candidate_there(
    two_walk_ins, volunteers, sms_outbox, worker
):
    first, second = two_walk_ins
    tom = volunteers[0]

    with worker():
        response = press(tom, offer_of(first, tom))

    assert response.status_code == 302
    assert offer_of(first, tom).status == Offer.Status.ACCEPTED
    assert offer_of(second, tom).status == Offer.Status.WITHDRAWN
    # The second walk-in pages its next candidate at once, in Tom's place.
    replacement = offer_of(second, volunteers[3])
    assert (replacement.status, replacement.source) == (Offer.Status.PENDING, Offer.Source.DECLINE)
    (page,) = texts_to(sms_outbox, volunteers[3])
    assert "someone needs a companion at Gloucester Police Department" in page
    # Tom is not texted about the walk-in he no longer has to answer.
    assert texts_to(sms_outbox, tom) == []
    second.refresh_from_db()
    assert second.status == Intake.Status.WAITING_FOR_COMPANION


def test_a_volunteer_already_with_someone_is_refused_with_409_and_paging_goes_on(
    department, two_walk_ins, volunteers, sms_outbox, worker
):
    first, second = two_walk_ins
    tom = volunteers[0]
    offer_accept(offer_id=offer_of(first, tom).pk, volunteer=tom)
    # A page that reached Tom before his accept (another worker held that walk-in at the time).
    Offer.objects.filter(intake=second, volunteer=tom).update(status=Offer.Status.PENDING, responded_at=None)
    Offer.objects.filter(intake=second, volunteer=volunteers[3]).delete()
    sms_outbox.clear()

    with worker():
        response = press(tom, offer_of(second, tom))

    assert response.status_code == 409
    page = response.content.decode()
    assert BUSY_TEXT in page
    assert "You are already with someone" in page
    assert offer_of(second, tom).status == Offer.Status.WITHDRAWN
    assert Offer.objects.filter(volunteer=tom, status=Offer.Status.ACCEPTED).count() == 1
    second.refresh_from_db()
    assert second.status == Intake.Status.WAITING_FOR_COMPANION
    assert offer_of(second, volunteers[3]).status == Offer.Status.PENDING
    assert len(texts_to(sms_outbox, volunteers[3])) == 1


def test_a_page_withdrawn_when_the_volunteer_went_elsewhere_says_so(two_walk_ins, volunteers, worker):
    first, second = two_walk_ins
    tom = volunteers[0]
    with worker():
        press(tom, offer_of(first, tom))

    response = press(tom, offer_of(second, tom))

    assert response.status_code == 409
    assert BUSY_TEXT in response.content.decode()


def test_texting_yes_while_already_with_someone_is_refused_in_plain_words(
    settings, two_walk_ins, volunteers, sms_outbox, worker
):
    settings.TWILIO_AUTH_TOKEN, settings.HARBOR_SITE_URL = "token", "https://harbor.example.org"
    first, second = two_walk_ins
    tom = volunteers[0]
    offer_accept(offer_id=offer_of(first, tom).pk, volunteer=tom)
    Offer.objects.filter(intake=second, volunteer=tom).update(status=Offer.Status.PENDING, responded_at=None)
    url = reverse("volunteers:twilio_inbound")
    params = {"From": str(tom.phone), "To": "+19785550000", "Body": "YES", "MessageSid": "SM1"}
    signature = RequestValidator("token").compute_signature(settings.HARBOR_SITE_URL + url, params)

    with worker():
        response = client_for(None).post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 200
    assert f"Harbor: {BUSY_TEXT}" in response.content.decode()
    assert offer_of(second, tom).status == Offer.Status.WITHDRAWN
    assert Offer.objects.filter(volunteer=tom, status=Offer.Status.ACCEPTED).count() == 1


def test_once_released_the_volunteer_can_accept_another_walk_in(
    department, officer, two_walk_ins, volunteers, worker
):
    first, _ = two_walk_ins
    tom = volunteers[0]
    accepted = offer_accept(offer_id=offer_of(first, tom).pk, volunteer=tom)
    companion_release(offer_id=accepted.pk, actor=tom.user)
    third = waiting(department, officer)
    later = OfferFactory(intake=third, volunteer=tom)

    response = press(tom, later)

    assert response.status_code == 302
    assert Offer.objects.get(pk=later.pk).status == Offer.Status.ACCEPTED


def test_a_busy_volunteer_refused_as_the_last_one_asked_calls_the_coordinators_at_once(
    department, officer, coordinator_on_call, sms_outbox, worker, monkeypatch
):
    """Stall: a volunteer already assigned accepts again, and nobody else is left for that
    walk-in. The coordinators' text is handed to the SMS backend when the refusal commits."""
    tom = volunteer_on_call(department)
    first, second = waiting(department, officer), waiting(department, officer)
    offer_accept(offer_id=OfferFactory(intake=first, volunteer=tom).pk, volunteer=tom)
    stale = OfferFactory(intake=second, volunteer=tom)
    sms_outbox.clear()
    handed_over_at = []
    monkeypatch.setattr(
        "notifications.backends.InMemorySmsBackend.send",
        _recording(handed_over_at),
    )

    with time_machine.travel(minutes(second, 4), tick=False), worker():
        response = press(tom, stale)

    assert response.status_code == 409
    (alert,) = texts_to(sms_outbox, coordinator_on_call)
    assert alert.startswith("Harbor: nobody can be paged at Gloucester Police Department: every volunteer")
    note = Notification.objects.get(intake=second, channel="sms", kind=Notification.Kind.NOBODY_LEFT)
    assert note.created_at == Offer.objects.get(pk=stale.pk).responded_at == minutes(second, 4)
    assert handed_over_at and (handed_over_at[0] - minutes(second, 4)).total_seconds() < 10


def _recording(handed_over_at: list):
    from django.utils import timezone

    from notifications.backends import InMemorySmsBackend

    original = InMemorySmsBackend.send

    def send(self, *args, **kwargs):
        handed_over_at.append(timezone.now())
        return original(self, *args, **kwargs)

    return send
