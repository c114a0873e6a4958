"""The channels: Twilio for texts (its client replaced here), Django's email backends for email."""

from __future__ import annotations

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from twilio.base.exceptions import TwilioRestException

from notifications import backends
from notifications.backends import PermanentSendError, TransientSendError, TwilioSmsBackend, send_email


class FakeTwilioClient:
    """Stands in for ``twilio.rest.Client``: records messages, or raises what it is told to."""

    instances: list[FakeTwilioClient] = []
    error: Exception | None = None

    def __init__(self, account_sid, auth_token, http_client=None):
        self.credentials = (account_sid, auth_token)
        self.http_client = http_client
        self.created = []
        self.messages = self
        FakeTwilioClient.instances.append(self)

    def create(self, **kwargs):
        if FakeTwilioClient.error is not None:
            raise FakeTwilioClient.error
        self.created.append(kwargs)
        return type("Message", (), {"sid": "SM0123456789abcdef0123456789abcdef"})()


@pytest.fixture
def twilio(settings, monkeypatch):
    settings.TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.TWILIO_FROM_NUMBER = "+19785550000"
    monkeypatch.setattr("twilio.rest.Client", FakeTwilioClient)
    FakeTwilioClient.instances = []
    FakeTwilioClient.error = None
    return FakeTwilioClient


def _send():
    return TwilioSmsBackend().send(
        to="+19785550101", body="Harbor: hello", idempotency_key="offer:1:offer:sms"
    )


def test_twilio_accepts_and_returns_the_message_sid(twilio):
    assert _send() == "SM0123456789abcdef0123456789abcdef"

    (client,) = twilio.instances
    assert client.credentials == ("AC0123456789abcdef0123456789abcdef", "test-auth-token")
    assert client.created == [{"to": "+19785550101", "from_": "+19785550000", "body": "Harbor: hello"}]


def test_twilio_calls_are_bounded_in_time(twilio):
    _send()
    (client,) = twilio.instances
    assert client.http_client.timeout == backends.SEND_TIMEOUT_SECONDS


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_twilio_server_error_or_rate_limit_is_transient(twilio, status):
    twilio.error = TwilioRestException(status, "https://api.twilio.com/Messages.json", "busy", code=20500)
    with pytest.raises(TransientSendError, match=str(status)):
        _send()


@pytest.mark.parametrize(("status", "code"), [(400, 21211), (400, 21610)])
def test_an_invalid_or_unsubscribed_number_is_permanent(twilio, status, code):
    twilio.error = TwilioRestException(status, "https://api.twilio.com/Messages.json", "no", code=code)
    with pytest.raises(PermanentSendError, match=str(code)):
        _send()


def test_a_network_failure_is_transient(twilio):
    twilio.error = ConnectionResetError("connection reset by peer")
    with pytest.raises(TransientSendError):
        _send()


def test_an_email_goes_through_the_configured_backend(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    message_id = send_email(
        to="ada@example.org", subject="Filled — thank you", body="Thank you.", idempotency_key="k1"
    )

    (message,) = mailoutbox
    assert message_id.startswith("<") and message_id.endswith(">")
    assert message.extra_headers["Message-ID"] == message_id
    assert message.extra_headers["X-Harbor-Idempotency-Key"] == backends.opaque_idempotency_key("k1")
    assert message.to == ["ada@example.org"]
    assert message.subject == "Filled — thank you"


class SlowSmtpLikeBackend(BaseEmailBackend):
    """Like Django's SMTP backend with EMAIL_TIMEOUT unset: a ``timeout`` of None."""

    sent_with_timeout: list = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.timeout = None

    def send_messages(self, messages):
        SlowSmtpLikeBackend.sent_with_timeout.append(self.timeout)
        return len(messages)


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def test_an_smtp_connection_without_a_timeout_gets_one(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowSmtpLikeBackend"
    SlowSmtpLikeBackend.sent_with_timeout = []

    send_email(to="ada@example.org", subject="s", body="b", idempotency_key="k2")

    assert SlowSmtpLikeBackend.sent_with_timeout == [backends.SEND_TIMEOUT_SECONDS]


def test_an_smtp_failure_is_transient(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with pytest.raises(TransientSendError):
        send_email(to="ada@example.org", subject="s", body="b", idempotency_key="k3")


def test_the_idempotency_key_a_provider_sees_is_opaque(settings, mailoutbox):
    """Issue 13 finding 19: the header named the intake ("intake:<id>:…")."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    key = "intake:48213:claimed:7:email"

    send_email(to="ada@example.org", subject="s", body="b", idempotency_key=key)
    send_email(to="ada@example.org", subject="s", body="b", idempotency_key=key)
    send_email(to="ada@example.org", subject="s", body="b", idempotency_key="intake:48214:claimed:7:email")

    sent = [message.extra_headers["X-Harbor-Idempotency-Key"] for message in mailoutbox]
    assert sent[0] == sent[1] != sent[2]  # stable for a retry, distinct per message
    for header in sent:
        assert "48213" not in header and "48214" not in header and "intake" not in header
        assert len(header) == 64 and set(header) <= set("0123456789abcdef")
