"""Provider callbacks for paging (Twilio): a volunteer answering a page by text message, delivery
receipts of texts and calls, and the phone call's "press 1 to accept, 2 to decline".

Every request must carry Twilio's signature (``notifications.twilio.signed_by_twilio``). An
answer by text counts only from a number its volunteer has verified, and only for that
volunteer's own offer (``selectors.offer_for_sms_reply``); a keypress only on a call with the
volunteer's own phone about their own offer. Anything else gets the same neutral answer and
changes nothing, so the stranger behind a mistyped number cannot accept in a volunteer's name.
The answers are TwiML in plain words and say nothing about the person: the station's name and
the volunteer's own link are all a reply or a call carries (docs: privacy).
"""

from __future__ import annotations

import logging
import re

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications.models import Notification
from notifications.services import message_render, notification_delivery_update
from notifications.twilio import phone_as_e164, signed_by_twilio
from volunteers.models import Offer

from . import selectors, tokens
from .services import (
    OfferUnavailable,
    offer_accept,
    offer_closed_reason,
    offer_decline,
    offer_delivery_receipt,
)
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


# --- delivery receipts ------------------------------------------------------------------------

# Twilio's ids (SM…, CA…) and the development backends' are short ASCII words; anything else is
# not one of ours and is not looked up.
PROVIDER_ID = re.compile(r"[A-Za-z0-9_:.-]{1,200}")


@login_not_required
@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a text (MessageSid, MessageStatus) or a call (CallSid,
    CallStatus): the message's delivery state moves forward (notifications), and paging reacts
    (a call after an undelivered text; the next candidate when the page reached nobody).
    A replayed or unknown receipt changes nothing and is answered the same way."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden()
    sid = request.POST.get("MessageSid") or request.POST.get("CallSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("CallStatus") or ""
    if PROVIDER_ID.fullmatch(sid) and len(status) <= 30:
        notification = notification_delivery_update(
            provider_message_id=sid, provider_status=status, error_code=request.POST.get("ErrorCode", "")[:20]
        )
        if notification is not None:
            done = offer_delivery_receipt(notification_id=notification.pk)
            logger.info(
                "delivery receipt for notification %s: %s (%s)", notification.pk, notification.status, done
            )
    return HttpResponse(status=204)


# --- phone calls ------------------------------------------------------------------------------

CALL_CLOSED = "This is Harbor. This request is closed. Thank you. Goodbye."
PRESS = "Press 1 to accept, or 2 to decline."
NO_KEY = "We did not hear a key. Goodbye."
CALL_DECLINED = "Thank you, we will ask someone else. Goodbye."


def _called_offer(request: HttpRequest, token: str) -> Offer | None:
    """The open or answered offer a signed call is about, if the call is with that volunteer's own
    phone (the number called for our calls, the caller otherwise); else None."""
    try:
        offer_id = tokens.offer_id_from_voice_token(token)
    except (tokens.BadOfferLink, tokens.ExpiredOfferLink):
        return None
    offer = (
        Offer.objects.select_related("volunteer__user", "department", "intake").filter(pk=offer_id).first()
    )
    if offer is None or not offer.volunteer.phone:
        return None
    outbound = request.POST.get("Direction", "").startswith("outbound")
    phone = phone_as_e164(request.POST.get("To" if outbound else "From", ""))
    if phone is None or phone != str(offer.volunteer.phone):
        return None
    return offer


@login_not_required
@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest, token: str) -> HttpResponse:
    """What a page by phone says when the volunteer picks up: the station's name, then it listens
    for one key (TwiML Gather, posted to ``twilio_voice_answer``)."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden()
    offer = _called_offer(request, token)
    if offer is None:
        return _spoken(CALL_CLOSED)
    if not offer.is_open:
        return _spoken(f"This is Harbor. {offer_closed_reason(offer)} Goodbye.")
    words = message_render(
        channel=Notification.Channel.VOICE,
        kind=Notification.Kind.OFFER,
        context={"station": offer.department.name},
    )
    return _gather(words, token)


@login_not_required
@csrf_exempt
@require_POST
def twilio_voice_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The key pressed on a page by phone: 1 accepts, 2 declines, through the same services as
    the web link; any other key is asked again."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden()
    offer = _called_offer(request, token)
    if offer is None:
        return _spoken(CALL_CLOSED)
    digits = request.POST.get("Digits", "").strip()
    if digits not in {"1", "2"}:
        return _gather(f"Sorry, we did not understand. {PRESS}", token)
    try:
        if digits == "1":
            offer = offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)
            station = offer.department
            words = f"Thank you, you are on your way to {station.name}, {station.street_address}. Goodbye."
        else:
            offer_decline(offer_id=offer.pk, volunteer=offer.volunteer)
            words = CALL_DECLINED
    except OfferUnavailable as unavailable:
        words = f"{unavailable.reason} Goodbye."
    except Offer.DoesNotExist:  # removed with its walk-in since it was looked up
        return _spoken(CALL_CLOSED)
    logger.info("call answer to offer %s: %s", offer.pk, "accept" if digits == "1" else "decline")
    return _spoken(words)


def _gather(words: str, token: str) -> HttpResponse:
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    gather = Gather(num_digits=1, action=tokens.voice_answer_url(token), method="POST", timeout=10)
    gather.say(words)
    response.append(gather)
    response.say(NO_KEY)
    response.hangup()
    return HttpResponse(str(response), content_type="text/xml")


def _spoken(words: str) -> HttpResponse:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(words)
    response.hangup()
    return HttpResponse(str(response), content_type="text/xml")
