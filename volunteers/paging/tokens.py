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


class BadOfferLink(Exception):
    """The link was tampered with or is not one of ours."""


class ExpiredOfferLink(Exception):
    pass


def offer_token(offer: Offer) -> str:
    return signing.dumps({"o": offer.pk}, salt=SALT, compress=True)


def offer_id_from_token(token: str) -> int:
    try:
        data = signing.loads(token, salt=SALT, max_age=OFFER_OPEN_FOR)
    except signing.SignatureExpired as error:
        raise ExpiredOfferLink from error
    except signing.BadSignature as error:
        raise BadOfferLink from error
    if not isinstance(data, dict) or not isinstance(data.get("o"), int):
        raise BadOfferLink
    return data["o"]


def offer_link(offer: Offer) -> str:
    """The absolute URL a volunteer opens from their phone."""
    return settings.HARBOR_SITE_URL.rstrip("/") + reverse(
        "volunteers:offer", kwargs={"token": offer_token(offer)}
    )
