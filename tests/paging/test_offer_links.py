"""The link in a page: signed, expiring, for one volunteer, and answering it once."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from volunteers.models import OFFER_OPEN_FOR, Offer
from volunteers.paging import tokens
from volunteers.paging.services import offer_accept, offer_decline, walk_in_close

from ..conftest import client_for
from ..factories import IntakeFactory, OfferFactory, PersonFactory
from .conftest import volunteer_on_call

pytestmark = pytest.mark.django_db

ACCEPT_BUTTON = 'value="accept"'


@pytest.fixture
def walk_in(department, officer):
    person = PersonFactory(department=department, first_name="Wren", last_name="Zabriskie", town="Essex")
    return IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        arrived_at=timezone.now() - timedelta(minutes=12),
        companion_language="es",
        needs="Quiet room; afraid of dogs",
        substances=["opioids"],
        notes="Sister waiting in the lobby",
    )


@pytest.fixture
def volunteer(department):
    return volunteer_on_call(department, languages=["en", "es"])


@pytest.fixture
def offer(walk_in, volunteer) -> Offer:
    return OfferFactory(intake=walk_in, volunteer=volunteer)


def link(offer: Offer) -> str:
    return reverse("volunteers:offer", kwargs={"token": tokens.offer_token(offer)})


@pytest.fixture
def phone(volunteer):
    """The volunteer's own phone, signed in."""
    return client_for(volunteer.user)


def page(response) -> str:
    return response.content.decode()


# --- what the link shows before anyone answers ----------------------------------------------------


def test_the_page_shows_only_the_station_its_address_and_how_long_they_have_waited(offer):
    response = client_for(None).get(link(offer))

    assert response.status_code == 200
    text = page(response)
    assert "Gloucester Police Department" in text
    assert "197 Main Street, Gloucester" in text
    assert "waiting 12 minutes" in text
    assert ACCEPT_BUTTON in text
    for private in ("Wren", "Zabriskie", "Spanish", "Quiet room", "dogs", "pioid", "Sister", "Essex"):
        assert private not in text


def test_the_volunteer_signed_in_sees_the_same_page_and_nothing_more(offer, phone):
    text = page(phone.get(link(offer)))

    assert ACCEPT_BUTTON in text
    for private in ("Wren", "Zabriskie", "Spanish", "Quiet room"):
        assert private not in text


# --- links that are not right ---------------------------------------------------------------------


def _tamper(token: str) -> str:
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda offer: _tamper(tokens.offer_token(offer)), id="signature changed"),
        pytest.param(
            lambda offer: signing.dumps({"o": offer.pk}, salt="another.salt", compress=True),
            id="another salt",
        ),
        pytest.param(lambda offer: "not-a-token", id="garbage"),
        pytest.param(
            lambda offer: signing.dumps({"o": str(offer.pk)}, salt=tokens.SALT), id="id not a number"
        ),
    ],
)
def test_a_tampered_link_is_not_valid(offer, phone, make_token):
    url = reverse("volunteers:offer", kwargs={"token": make_token(offer)})

    for response in (phone.get(url), phone.post(url, {"answer": "accept"})):
        assert response.status_code == 400
        assert "not valid" in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_an_expired_link_says_so(offer, phone):
    url = link(offer)

    with time_machine.travel(timezone.now() + OFFER_OPEN_FOR + timedelta(seconds=1), tick=False):
        shown = client_for(None).get(url)
        answered = phone.post(url, {"answer": "accept"})

    for response in (shown, answered):
        assert response.status_code == 410
        assert "expired" in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_a_link_opened_by_another_volunteer_is_refused(department, offer):
    someone_else = client_for(volunteer_on_call(department).user)

    shown = someone_else.get(link(offer))
    answered = someone_else.post(link(offer), {"answer": "accept"})

    for response in (shown, answered):
        assert response.status_code == 403
        assert "sent to another volunteer" in page(response)
        assert ACCEPT_BUTTON not in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_a_validly_signed_link_to_no_offer_is_not_found(phone):
    token = signing.dumps({"o": 999999}, salt=tokens.SALT, compress=True)

    response = phone.get(reverse("volunteers:offer", kwargs={"token": token}))

    assert response.status_code == 404


# --- answering ------------------------------------------------------------------------------------


def test_answering_without_signing_in_goes_to_sign_in_and_back_to_the_link(offer):
    url = link(offer)

    response = client_for(None).post(url, {"answer": "accept"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={quote(url)}"
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


@pytest.mark.parametrize("answer", ["maybe", "", "ACCEPT"])
def test_an_answer_other_than_accept_or_decline_is_refused(offer, phone, answer):
    response = phone.post(link(offer), {"answer": answer})

    assert response.status_code == 400
    assert "Press Accept or Decline" in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_a_post_without_an_answer_is_refused(offer, phone):
    response = phone.post(link(offer))

    assert response.status_code == 400
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_accepting_from_the_link_leads_to_the_assignment(offer, phone):
    response = phone.post(link(offer), {"answer": "accept"})

    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:assignment", kwargs={"offer_id": offer.pk})
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED
    assert "Wren" in page(phone.get(response["Location"]))


def test_declining_from_the_link_thanks_the_volunteer(offer, phone):
    response = phone.post(link(offer), {"answer": "decline"})

    assert response.status_code == 200
    assert "Thank you for letting us know" in page(response)
    assert ACCEPT_BUTTON not in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DECLINED


# --- a link already answered ----------------------------------------------------------------------


def test_after_declining_the_link_shows_the_outcome_and_nothing_to_press(offer, phone):
    offer_decline(offer_id=offer.pk, volunteer=offer.volunteer)

    for client in (phone, client_for(None)):
        response = client.get(link(offer))
        assert response.status_code == 200
        assert "You declined this request" in page(response)
        assert ACCEPT_BUTTON not in page(response)


def test_after_accepting_the_link_shows_the_assignment_or_the_outcome(offer, phone):
    offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)

    signed_in = phone.get(link(offer))
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("volunteers:assignment", kwargs={"offer_id": offer.pk})
    anonymous = client_for(None).get(link(offer))
    assert anonymous.status_code == 200
    assert "You have already accepted this request" in page(anonymous)
    assert ACCEPT_BUTTON not in page(anonymous)
    assert "Wren" not in page(anonymous)


def test_accepting_a_declined_offer_from_the_link_is_refused(offer, phone):
    offer_decline(offer_id=offer.pk, volunteer=offer.volunteer)

    response = phone.post(link(offer), {"answer": "accept"})

    assert response.status_code == 409
    assert "You declined this request" in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DECLINED
    assert Intake.objects.get(pk=offer.intake_id).status == Intake.Status.WAITING_FOR_COMPANION


def test_declining_an_accepted_offer_from_the_link_is_refused(offer, phone):
    offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)

    response = phone.post(link(offer), {"answer": "decline"})

    assert response.status_code == 409
    assert "You have already accepted this request" in page(response)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED


def test_a_link_withdrawn_because_the_walk_in_closed_says_it_is_no_longer_needed(offer, officer, phone):
    walk_in_close(intake=offer.intake, actor=officer, reason=Intake.CloseReason.REFERRED_ELSEWHERE)

    shown = phone.get(link(offer))
    answered = phone.post(link(offer), {"answer": "accept"})

    assert "no longer needed" in page(shown)
    assert ACCEPT_BUTTON not in page(shown)
    assert answered.status_code == 409
    assert "no longer needed" in page(answered)
    assert "already on the way" not in page(answered)
