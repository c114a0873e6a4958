"""Text-message replies from volunteers (Twilio's webhook) and the delivery log coordinators read.

The webhook answers with TwiML in plain words. It says nothing about the person: the station's
name and the volunteer's own link are all a reply carries (DESIGN.md "Privacy and law").
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.access_log import RecordType, record_shown, shows_person
from accounts.selectors import coordinator_department_ids
from intake.selectors import intake_get_for_user
from volunteers.models import Offer
from volunteers.services import OfferUnavailable, offer_accept, offer_decline
from volunteers.tokens import offer_link

from . import selectors

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
    if not _signed_by_twilio(request):
        return HttpResponseForbidden()
    word = request.POST.get("Body", "").strip().strip(".!").lower()
    if word in OPT_OUT_WORDS:
        return _twiml(None)
    if word not in ACCEPT_WORDS | DECLINE_WORDS:
        return _twiml(HELP)
    phone = selectors.phone_as_e164(request.POST.get("From", ""))
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


def _signed_by_twilio(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called and the posted fields with the account's auth token.
    Without a token configured nothing can be trusted, so everything is refused."""
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.HARBOR_SITE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


def _twiml(text: str | None) -> HttpResponse:
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if text:
        response.message(text)
    return HttpResponse(str(response), content_type="text/xml")


@shows_person(RecordType.DELIVERY_LOG)
@require_GET
def intake_log(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """What was sent to whom about one walk-in: a coordinator's tool (desk officers get 403)."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id)
    if intake.department_id not in coordinator_department_ids(user=request.user):
        raise PermissionDenied
    record_shown(request, intake)
    context = {"intake": intake, "notifications": list(selectors.notifications_for_intake(intake=intake))}
    if request.htmx:
        return render(request, "notifications/_intake_log_table.html", context)
    return render(request, "notifications/intake_log.html", context)
