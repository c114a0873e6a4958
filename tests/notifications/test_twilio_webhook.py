"""A volunteer answers a page by text: YES accepts, NO declines, and only Twilio may say so."""

from __future__ import annotations

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from intake.models import Intake
from volunteers.models import Offer
from volunteers.paging.services import offer_accept, paging_advance

from ..conftest import client_for
from ..factories import IntakeFactory

TOKEN = "test-twilio-auth-token"
SITE = "https://harbor.example.org"
URL = "/volunteers/twilio/sms/"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.HARBOR_SITE_URL = SITE


@pytest.fixture
def intake(department, officer, on_call_volunteers):
    """A walk-in whose first wave has gone out: three volunteers paged, each on their own phone."""
    intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Zebulon")
    paging_advance(intake_id=intake.pk)
    return intake


@pytest.fixture
def offers(intake):
    return list(Offer.objects.filter(intake=intake).select_related("volunteer", "department"))


def _text(body: str, from_: str, *, token: str = TOKEN, signature: str | None = None):
    params = {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": from_,
        "To": "+19785550000",
        "Body": body,
        "NumMedia": "0",
    }
    if signature is None:
        signature = RequestValidator(token).compute_signature(SITE + URL, params)
    return client_for(None).post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


def _reply(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return response.content.decode()


def test_the_url_is_named():
    assert reverse("volunteers:twilio_inbound") == URL


def test_yes_accepts_the_latest_open_request(intake, offers):
    offer = offers[0]

    reply = _reply(_text("YES", str(offer.volunteer.phone)))

    assert reply.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "on your way to Gloucester Police Department" in reply
    assert f"{SITE}/volunteers/offers/" in reply
    assert "Zebulon" not in reply
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ASSIGNED
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED
    assert set(Offer.objects.exclude(pk=offer.pk).values_list("status", flat=True)) == {
        Offer.Status.WITHDRAWN
    }


@pytest.mark.parametrize("body", ["yes", " Yes ", "Y", "accept", "ACCEPT", "Yes!"])
def test_yes_may_be_written_many_ways(offers, body):
    assert "on your way" in _reply(_text(body, str(offers[0].volunteer.phone)))


def test_a_number_written_without_the_country_code_is_recognised(offers):
    national = str(offers[0].volunteer.phone).removeprefix("+1")
    assert "on your way" in _reply(_text("yes", national))


def test_yes_twice_is_harmless(offers):
    phone = str(offers[0].volunteer.phone)
    _text("yes", phone)
    assert "on your way" in _reply(_text("yes", phone))
    assert Offer.objects.filter(status=Offer.Status.ACCEPTED).count() == 1


def test_no_declines_and_pages_the_next_volunteer(intake, offers, on_call_volunteers):
    offer = offers[0]

    reply = _reply(_text("No", str(offer.volunteer.phone)))

    assert "we'll ask someone else" in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DECLINED
    replacement = Offer.objects.get(intake=intake, source=Offer.Source.DECLINE)
    assert replacement.volunteer not in {o.volunteer for o in offers}
    intake.refresh_from_db()
    assert intake.status == Intake.Status.WAITING_FOR_COMPANION


def test_a_late_yes_is_told_someone_else_is_on_the_way(offers):
    offer_accept(offer_id=offers[0].pk, volunteer=offers[0].volunteer)

    reply = _reply(_text("YES", str(offers[1].volunteer.phone)))

    assert "Someone else is already on the way" in reply
    assert Offer.objects.get(pk=offers[1].pk).status == Offer.Status.WITHDRAWN


def test_the_latest_of_two_open_requests_is_answered(department, officer, offers):
    volunteer = offers[0].volunteer
    later = IntakeFactory(department=department, logged_by=officer)
    paging_advance(intake_id=later.pk)
    newest = Offer.objects.get(intake=later, volunteer=volunteer)

    _text("yes", str(volunteer.phone))

    assert Offer.objects.get(pk=newest.pk).status == Offer.Status.ACCEPTED
    assert Offer.objects.get(pk=offers[0].pk).status == Offer.Status.PENDING


def test_an_unknown_number_gets_a_polite_answer(offers):
    reply = _reply(_text("YES", "+16175550123"))

    assert "couldn't find an open request" in reply
    assert not Offer.objects.filter(status=Offer.Status.ACCEPTED).exists()


def test_a_number_that_is_not_a_number_gets_the_same_answer(offers):
    assert "couldn't find an open request" in _reply(_text("YES", "not-a-phone"))


def test_a_volunteer_with_nothing_open_gets_the_same_answer(on_call_volunteers):
    assert "couldn't find an open request" in _reply(_text("yes", str(on_call_volunteers[0].phone)))


def test_other_words_get_short_help(offers):
    reply = _reply(_text("what is this?", str(offers[0].volunteer.phone)))

    assert "reply YES" in reply
    assert not Offer.objects.exclude(status=Offer.Status.PENDING).exists()


def test_stop_gets_no_reply(offers):
    reply = _reply(_text("STOP", str(offers[0].volunteer.phone)))

    assert "<Message>" not in reply
    assert not Offer.objects.exclude(status=Offer.Status.PENDING).exists()


def test_a_bad_signature_is_refused(offers):
    response = _text("YES", str(offers[0].volunteer.phone), token="someone-elses-token")

    assert response.status_code == 403
    assert response.content == b""
    assert not Offer.objects.exclude(status=Offer.Status.PENDING).exists()


def test_a_missing_signature_is_refused(offers):
    response = _text("YES", str(offers[0].volunteer.phone), signature="")

    assert response.status_code == 403
    assert not Offer.objects.exclude(status=Offer.Status.PENDING).exists()


def test_a_signature_over_other_fields_is_refused(offers):
    """A signed NO cannot be replayed as a YES."""
    phone = str(offers[0].volunteer.phone)
    signed_no = RequestValidator(TOKEN).compute_signature(
        SITE + URL,
        {
            "MessageSid": "SM0123456789abcdef0123456789abcdef",
            "AccountSid": "AC0123456789abcdef0123456789abcdef",
            "From": phone,
            "To": "+19785550000",
            "Body": "NO",
            "NumMedia": "0",
        },
    )
    assert _text("YES", phone, signature=signed_no).status_code == 403


def test_without_an_auth_token_everything_is_refused(offers, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = _text("YES", str(offers[0].volunteer.phone), token="")

    assert response.status_code == 403
    assert not Offer.objects.exclude(status=Offer.Status.PENDING).exists()


def test_only_post_is_answered():
    assert client_for(None).get(URL).status_code == 405
