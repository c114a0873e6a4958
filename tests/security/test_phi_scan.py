"""The scanner that checks every test for personal health information leaving Harbor
(tests/phi_scan.py, wired in tests/conftest.py) catches a leak through each channel."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.core import mail
from django.test import Client

from notifications.models import Notification
from tests.factories import IntakeFactory, PersonFactory
from tests.phi_scan import PhiScanner


@pytest.fixture
def person(db):
    return PersonFactory(
        first_name="Marigold",
        last_name="Fairweather",
        date_of_birth=date(1988, 3, 14),
        insurance_member_id="MH4471902",
        emergency_contact_name="Rosalind Fairweather",
    )


def _leaked(scanner, *, source_prefix: str) -> list[str]:
    """The identifiers found in texts from one source; the texts are then forgotten, so this
    test's own deliberate leak does not fail it at teardown."""
    found = [leak.identifier for leak in scanner.leaks() if leak.source.startswith(source_prefix)]
    scanner.clear_texts()
    return found


def test_a_name_in_a_log_line_is_caught(no_phi_leaves_harbor, person):
    logging.getLogger("harbor.example").warning("walk-in for %s %s", person.first_name, person.last_name)

    assert _leaked(no_phi_leaves_harbor, source_prefix="log") == ["Marigold Fairweather"]


def test_an_exception_message_in_a_log_is_caught(no_phi_leaves_harbor, person):
    try:
        raise ValueError(f"bad record {person.date_of_birth.isoformat()}")
    except ValueError:
        logging.getLogger("harbor.example").exception("failed")

    assert _leaked(no_phi_leaves_harbor, source_prefix="log") == ["1988-03-14"]


def test_a_name_in_a_url_is_caught(no_phi_leaves_harbor, person):
    Client().get("/intake/", {"q": "Fairweather, Marigold"})  # sent as q=Fairweather%2C+Marigold
    assert _leaked(no_phi_leaves_harbor, source_prefix="URL") == ["Fairweather, Marigold"]

    Client().get("/intake/Marigold Fairweather/")
    assert _leaked(no_phi_leaves_harbor, source_prefix="URL") == ["Marigold Fairweather"]


def test_a_member_id_in_a_notification_is_caught(no_phi_leaves_harbor, person, volunteer_user):
    intake = IntakeFactory(person=person)
    Notification.objects.create(
        department=intake.department,
        intake=intake,
        recipient=volunteer_user,
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.OFFER,
        to="+19785550100",
        body="Insurance MH4471902 on file",
        idempotency_key="phi-scan-test",
    )

    assert _leaked(no_phi_leaves_harbor, source_prefix="notification") == ["MH4471902"]


def test_an_emergency_contact_in_an_email_is_caught(no_phi_leaves_harbor, person):
    """Emails are collected at the end of the test, from Django's test outbox."""
    mail.send_mail("Walk-in", "Call Rosalind Fairweather", "harbor@example.org", ["c@example.org"])
    for message in mail.outbox:
        no_phi_leaves_harbor.add_text("email", message.body)

    assert _leaked(no_phi_leaves_harbor, source_prefix="email") == ["Rosalind Fairweather"]
    mail.outbox.clear()  # or the end-of-test collection would (rightly) fail this test


def test_task_arguments_are_scanned(no_phi_leaves_harbor, person):
    from celery.signals import task_prerun

    task_prerun.send(sender=None, task_id="1", task=None, args=("Marigold Fairweather",), kwargs={})

    assert _leaked(no_phi_leaves_harbor, source_prefix="task") == ["Marigold Fairweather"]


def test_what_is_not_an_identifier():
    scanner = PhiScanner()

    class Alias:
        first_name, last_name, emergency_contact_name = "J", "Smith", ""
        insurance_member_id, date_of_birth, anonymised_at = "12", None, None

    scanner.add_person(Alias)
    scanner.add_text("log", "J Smith paid with member 12")

    assert scanner.identifiers == set()
    assert scanner.leaks() == []


def test_names_match_across_case_and_line_breaks():
    scanner = PhiScanner()
    scanner._add_name("Marigold", "Fairweather")
    scanner.add_text("email", "Dear MARIGOLD\n   FAIRWEATHER,")
    scanner.add_text("email", "Fairweather, Marigold")

    assert [leak.identifier.lower() for leak in scanner.leaks()] == [
        "marigold fairweather",
        "fairweather, marigold",
    ]


def test_a_name_in_what_harbor_answers_twilio_is_caught(no_phi_leaves_harbor, person, settings):
    """TwiML (a text reply, what a phone call says) is collected by the test middleware."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tests.phi_scan import ProviderReplyScanMiddleware

    assert "tests.phi_scan.ProviderReplyScanMiddleware" in settings.MIDDLEWARE
    say = "<Response><Say>Someone named Marigold Fairweather is waiting</Say></Response>"
    middleware = ProviderReplyScanMiddleware(lambda request: HttpResponse(say, content_type="text/xml"))
    middleware(RequestFactory().post("/volunteers/twilio/voice/token/"))

    assert _leaked(no_phi_leaves_harbor, source_prefix="reply to") == ["Marigold Fairweather"]


def test_a_name_in_a_phone_call_is_caught(no_phi_leaves_harbor, person, voice_outbox):
    """Calls placed are collected at the end of the test, from the in-memory voice outbox."""
    from notifications.backends import InMemoryVoiceBackend

    InMemoryVoiceBackend().call(
        to="+19785550100", body="For Marigold Fairweather", call_url="", idempotency_key="k"
    )
    for call in voice_outbox:
        no_phi_leaves_harbor.add_text("phone call", call.body)

    assert _leaked(no_phi_leaves_harbor, source_prefix="phone call") == ["Marigold Fairweather"]
    InMemoryVoiceBackend.reset()  # or the end-of-test collection would (rightly) fail this test
