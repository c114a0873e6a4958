"""Provider callbacks for paging: a volunteer answering a page by text message (Twilio's webhook).

Every request must carry Twilio's signature (``notifications.twilio.signed_by_twilio``). The
webhook answers with TwiML in plain words and says nothing about the person: the station's name
and the volunteer's own link are all a reply carries (docs: privacy).
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.twilio import phone_as_e164, signed_by_twilio
from volunteers.models import Offer

from . import selectors
from .services import OfferUnavailable, offer_accept, offer_decline
from .tokens import offer_link

logger = logging.getLogger(__name__)

ACCEPT_WORDS = frozenset({"yes", "y", "accept"})
DECLINE_WORDS = frozenset({"no", "n", "decline"})
# Twilio's opt-out keywords: Twilio itself unsubscribes the number and will not deliver a reply.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})

# Replies are plain GSM-7 text (no typographic dashes or quotes) so each fits in fewer segments.
NOT_FOUND = "Harbor: we couldn't find an open request for you."
HELP = "Harbor: reply YES to accept the latest request or NO to decline it, or open the link we sent."
DECLINED = "Harbor: thanks, we'll ask someone else."


@login_not_required
@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A volunteer answered a page by text: YES accepts, NO declines their latest request."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden()
    word = request.POST.get("Body", "").strip().strip(".!").lower()
    if word in OPT_OUT_WORDS:
        return _twiml(None)
    if word not in ACCEPT_WORDS | DECLINE_WORDS:
        return _twiml(HELP)
    phone = phone_as_e164(request.POST.get("From", ""))
    offer = selectors.offer_for_sms_reply(phone=phone) if phone else None
    if offer is None:
        return _twiml(NOT_FOUND)
    try:
        if word in ACCEPT_WORDS:
            offer = offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)
            reply = (
                f"Harbor: thank you - you're on your way to {offer.department.name}. "
                f"Details: {offer_link(offer)}"
            )
        else:
            offer_decline(offer_id=offer.pk, volunteer=offer.volunteer)
            reply = DECLINED
    except OfferUnavailable as unavailable:
        reply = f"Harbor: {unavailable.reason}"
    except Offer.DoesNotExist:  # removed with its walk-in since it was looked up
        return _twiml(NOT_FOUND)
    logger.info("sms reply to offer %s: %s", offer.pk, "accept" if word in ACCEPT_WORDS else "decline")
    return _twiml(reply)


def _twiml(text: str | None) -> HttpResponse:
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if text:
        response.message(text)
    return HttpResponse(str(response), content_type="text/xml")
