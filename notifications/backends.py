"""Channels behind one small interface: ``send(to=…, body=…, idempotency_key=…) -> provider id``
(voice: ``call(to=…, body=…, call_url=…, idempotency_key=…) -> provider id``).

Settings choose the SMS backend (``HARBOR_SMS_BACKEND``), the voice backend
(``HARBOR_VOICE_BACKEND``) and Django's ``EMAIL_BACKEND`` the email transport (console in
development, locmem in tests, SMTP or django-anymail in production). The Twilio backends ask for
delivery receipts at ``TWILIO_STATUS_CALLBACK_URL``.
A backend raises ``TransientSendError`` for what may succeed later (timeouts, 5xx, rate limits)
and ``PermanentSendError`` for what never will (an invalid number).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string
from twilio.twiml.voice_response import VoiceResponse

logger = logging.getLogger(__name__)

# A send that hangs would outlive ``services.STALE_CLAIM_AFTER``; the re-drive would then send the
# message a second time while the first call is still waiting. Every network call is bounded.
SEND_TIMEOUT_SECONDS = 30


class SendError(Exception):
    pass


class TransientSendError(SendError):
    pass


class PermanentSendError(SendError):
    pass


class ConsoleSmsBackend:
    """Development: prints the text message (they carry no personal health information)."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        print(f"[SMS to {to}] {body}", flush=True)
        return f"console-{idempotency_key}"


@dataclass
class SentSms:
    to: str
    body: str
    idempotency_key: str


def memory_sid(prefix: str, idempotency_key: str) -> str:
    """A provider id shaped like Twilio's (``SM…`` for a text, ``CA…`` for a call), the same for
    the same idempotency key."""
    return prefix + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class InMemorySmsBackend:
    """Tests: keeps every message in ``outbox``. Like a provider with idempotency keys, a key it
    has already accepted returns the first message id instead of sending again.

    Numbers in ``undeliverable`` (a landline, a carrier block) are accepted like any other, as
    Twilio accepts them; the tests' receipt helper then reports them undelivered."""

    outbox: list[SentSms] = []
    undeliverable: set[str] = set()
    _lock = threading.Lock()

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        with self._lock:
            if not any(m.idempotency_key == idempotency_key for m in self.outbox):
                self.outbox.append(SentSms(to=to, body=body, idempotency_key=idempotency_key))
        return memory_sid("SM", idempotency_key)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.outbox.clear()
            cls.undeliverable.clear()


class TwilioSmsBackend:
    """Production: Twilio's Messages API."""

    def __init__(self) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS),
        )
        self.from_number = settings.TWILIO_FROM_NUMBER

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(
                to=to,
                from_=self.from_number,
                body=body,
                status_callback=settings.TWILIO_STATUS_CALLBACK_URL,
            )
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                raise TransientSendError(f"Twilio {error.status}") from error
            raise PermanentSendError(f"Twilio {error.status} code {error.code}") from error
        except (TwilioException, OSError) as error:
            raise TransientSendError(type(error).__name__) from error
        return message.sid


def sms_backend():
    return import_string(settings.HARBOR_SMS_BACKEND)()


# --- voice ------------------------------------------------------------------------------------


def spoken_twiml(body: str) -> str:
    """TwiML that says ``body`` and hangs up: the whole call when there is nothing to press."""
    response = VoiceResponse()
    response.say(body)
    response.hangup()
    return str(response)


class ConsoleVoiceBackend:
    """Development: prints the call that would be placed."""

    def call(self, *, to: str, body: str, call_url: str, idempotency_key: str) -> str:
        # The call URL holds a signed token that answers the page: never printed.
        print(f"[Call to {to}] {body}", flush=True)
        return f"console-{idempotency_key}"


@dataclass
class PlacedCall:
    to: str
    body: str
    call_url: str
    idempotency_key: str
    sid: str


class InMemoryVoiceBackend:
    """Tests: keeps every call in ``outbox`` (one per idempotency key, as with texts). Numbers in
    ``unanswered`` ring out: the tests' receipt helper reports those calls "no-answer"."""

    outbox: list[PlacedCall] = []
    unanswered: set[str] = set()
    _lock = threading.Lock()

    def call(self, *, to: str, body: str, call_url: str, idempotency_key: str) -> str:
        sid = memory_sid("CA", idempotency_key)
        with self._lock:
            if not any(c.idempotency_key == idempotency_key for c in self.outbox):
                self.outbox.append(
                    PlacedCall(to=to, body=body, call_url=call_url, idempotency_key=idempotency_key, sid=sid)
                )
        return sid

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.outbox.clear()
            cls.unanswered.clear()


class TwilioVoiceBackend:
    """Production: Twilio's Calls API. With a ``call_url`` Twilio fetches what to say (and which
    keys to listen for) when the call is answered; without one the body is spoken as it is."""

    def __init__(self) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS),
        )
        self.from_number = settings.TWILIO_FROM_NUMBER

    def call(self, *, to: str, body: str, call_url: str, idempotency_key: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        what = {"url": call_url} if call_url else {"twiml": spoken_twiml(body)}
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.from_number,
                status_callback=settings.TWILIO_STATUS_CALLBACK_URL,
                status_callback_method="POST",
                **what,
            )
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                raise TransientSendError(f"Twilio {error.status}") from error
            raise PermanentSendError(f"Twilio {error.status} code {error.code}") from error
        except (TwilioException, OSError) as error:
            raise TransientSendError(type(error).__name__) from error
        return call.sid


def voice_backend():
    return import_string(settings.HARBOR_VOICE_BACKEND)()


def opaque_idempotency_key(idempotency_key: str) -> str:
    """What a provider is told: an HMAC of our key (stable for retries, so the provider still
    de-duplicates), never the key itself, which names an intake, an offer or a user by id."""
    return salted_hmac("harbor.notifications.provider-key", idempotency_key, algorithm="sha256").hexdigest()


def send_email(*, to: str, subject: str, body: str, idempotency_key: str) -> str:
    """Send through Django's configured email backend; returns the provider's message id.

    The provider sees only ``opaque_idempotency_key(idempotency_key)``.
    """
    message_id = make_msgid(domain=settings.HARBOR_EMAIL_DOMAIN)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": message_id,
            "X-Harbor-Idempotency-Key": opaque_idempotency_key(idempotency_key),
        },
    )
    connection = get_connection()
    if getattr(connection, "timeout", "") is None:  # SMTP waits for ever unless EMAIL_TIMEOUT is set
        connection.timeout = SEND_TIMEOUT_SECONDS
    try:
        sent = connection.send_messages([message])
    except OSError as error:  # SMTP and network failures
        raise TransientSendError(type(error).__name__) from error
    if not sent:
        raise TransientSendError("the email backend accepted nothing")
    status = getattr(message, "anymail_status", None)  # django-anymail records the ESP's id
    return getattr(status, "message_id", None) or message_id
