"""Twilio as the tests see it: requests signed with the account's auth token, exactly as Twilio
posts them (delivery receipts of texts and calls, the TwiML fetch of an answered call, the key a
volunteer pressed). Use with the ``twilio_account`` fixture, which sets the token and site URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree import ElementTree

from django.urls import reverse
from twilio.request_validator import RequestValidator

from notifications.backends import InMemorySmsBackend, InMemoryVoiceBackend

from ..conftest import client_for

TOKEN = "test-twilio-auth-token"
SITE = "https://harbor.example.org"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
HARBOR_NUMBER = "+19785550000"


def signed_post(url: str, params: dict, *, token: str = TOKEN, signature: str | None = None):
    """POST ``params`` to ``url`` (a path or an absolute URL of the site) as Twilio would."""
    path = urlsplit(url).path
    if signature is None:
        signature = RequestValidator(token).compute_signature(SITE + path, params)
    return client_for(None).post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def status_url() -> str:
    return reverse("volunteers:twilio_status")


def text_receipt(sid: str, status: str, *, to: str, error_code: str | None = None, **kwargs):
    """Twilio's StatusCallback for a message (ErrorCode only when it failed or was undelivered)."""
    params = {
        "ApiVersion": "2010-04-01",
        "AccountSid": ACCOUNT,
        "From": HARBOR_NUMBER,
        "To": to,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if error_code:
        params["ErrorCode"] = error_code
    return signed_post(status_url(), params, **kwargs)


def call_receipt(sid: str, status: str, *, to: str, **kwargs):
    """Twilio's StatusCallback for an outbound call that has ended."""
    params = {
        "ApiVersion": "2010-04-01",
        "AccountSid": ACCOUNT,
        "CallSid": sid,
        "CallStatus": status,
        "Direction": "outbound-api",
        "From": HARBOR_NUMBER,
        "Caller": HARBOR_NUMBER,
        "To": to,
        "Called": to,
        "CallDuration": "0" if status != "completed" else "21",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "0",
    }
    return signed_post(status_url(), params, **kwargs)


def deliver_receipts() -> list:
    """Report every text and call the in-memory backends hold, as the carrier would: texts to a
    number in ``InMemorySmsBackend.undeliverable`` come back undelivered (30006, landline or
    unreachable carrier), the others delivered; calls to ``InMemoryVoiceBackend.unanswered`` ring
    out ("no-answer"), the others are answered. Returns the responses."""
    from notifications.backends import memory_sid

    responses = []
    for text in list(InMemorySmsBackend.outbox):
        sid = memory_sid("SM", text.idempotency_key)
        if text.to in InMemorySmsBackend.undeliverable:
            responses.append(text_receipt(sid, "undelivered", to=text.to, error_code="30006"))
        else:
            responses.append(text_receipt(sid, "sent", to=text.to))
            responses.append(text_receipt(sid, "delivered", to=text.to))
    for call in list(InMemoryVoiceBackend.outbox):
        status = "no-answer" if call.to in InMemoryVoiceBackend.unanswered else "completed"
        responses.append(call_receipt(call.sid, status, to=call.to))
    return responses


def call_answered(call_url: str, *, to: str, **kwargs):
    """The volunteer picked up: Twilio fetches the call's TwiML."""
    return signed_post(call_url, _call_params(to), **kwargs)


def key_pressed(action_url: str, digits: str, *, to: str, **kwargs):
    """The volunteer pressed ``digits``: Twilio posts them to the Gather's action."""
    return signed_post(action_url, {**_call_params(to), "Digits": digits, "FinishedOnKey": ""}, **kwargs)


def _call_params(to: str) -> dict:
    return {
        "ApiVersion": "2010-04-01",
        "AccountSid": ACCOUNT,
        "CallSid": "CA0123456789abcdef0123456789abcdef",
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "From": HARBOR_NUMBER,
        "Caller": HARBOR_NUMBER,
        "To": to,
        "Called": to,
    }


def twiml(response) -> ElementTree.Element:
    """The TwiML document a response carries, parsed."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 -- our own answer, in a test
    assert root.tag == "Response"
    return root


def spoken(root: ElementTree.Element) -> str:
    """Everything the call says, in order."""
    return " ".join(say.text or "" for say in root.iter("Say"))
