"""Opaque, signed, expiring links for pages sent by SMS or email.

The token names an offer by its primary key only (no personal details) and is signed with the
site's secret; it expires with the offer. It is single-use in effect: once the offer has been
answered, the link shows what happened and offers nothing more to do.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from volunteers.models import OFFER_OPEN_FOR, Offer

SALT = "harbor.volunteers.offer-link"
# A separate salt: a phone call's token cannot be used as a web link, nor the other way round.
VOICE_SALT = "harbor.volunteers.voice-call"


class BadOfferLink(Exception):
    """The link was tampered with or is not one of ours."""


class ExpiredOfferLink(Exception):
    pass


def offer_token(offer: Offer) -> str:
    return signing.dumps({"o": offer.pk}, salt=SALT, compress=True)


def _offer_id(token: str, *, salt: str) -> int:
    """The offer a signed token names. Raises ExpiredOfferLink or BadOfferLink."""
    try:
        data = signing.loads(token, salt=salt, max_age=OFFER_OPEN_FOR)
    except signing.SignatureExpired as error:
        raise ExpiredOfferLink from error
    except signing.BadSignature as error:
        raise BadOfferLink from error
    if not isinstance(data, dict) or not isinstance(data.get("o"), int):
        raise BadOfferLink
    return data["o"]


def offer_id_from_token(token: str) -> int:
    return _offer_id(token, salt=SALT)


def offer_link(offer: Offer) -> str:
    """The absolute URL a volunteer opens from their phone."""
    return settings.HARBOR_SITE_URL.rstrip("/") + reverse(
        "volunteers:offer", kwargs={"token": offer_token(offer)}
    )


# --- phone calls: the TwiML Twilio fetches when the call is answered, and where the keypress goes


def voice_token(offer: Offer) -> str:
    return signing.dumps({"o": offer.pk}, salt=VOICE_SALT, compress=True)


def offer_id_from_voice_token(token: str) -> int:
    """The offer a call is about. Raises ExpiredOfferLink or BadOfferLink."""
    return _offer_id(token, salt=VOICE_SALT)


def _absolute(name: str, token: str) -> str:
    return settings.HARBOR_SITE_URL.rstrip("/") + reverse(name, kwargs={"token": token})


def voice_call_url(offer: Offer) -> str:
    """What Twilio fetches when the volunteer picks up: the station's name and "press 1 or 2"."""
    return _absolute("volunteers:twilio_voice", voice_token(offer))


def voice_answer_url(token: str) -> str:
    """Where Twilio posts the key the volunteer pressed (TwiML Gather action)."""
    return _absolute("volunteers:twilio_voice_answer", token)
