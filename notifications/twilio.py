"""Twilio plumbing that knows no domain: request signatures and phone numbers."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator


def signed_by_twilio(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called and the posted fields with the account's auth token.
    Without a token configured nothing can be trusted, so everything is refused."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.HARBOR_SITE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


def phone_as_e164(raw: str) -> str | None:
    """``raw`` as stored on a volunteer (E.164), or None when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw or "", settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
