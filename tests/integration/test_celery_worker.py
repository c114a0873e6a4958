"""A walk-in reaches a volunteer's phone through a real Celery worker on the real broker.

The worker runs in this process (tests/celery_worker.py), so the settings of the test apply to
it; this test commits to the database (``transaction=True``). Nothing here waits without a bound.
"""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction

from accounts.models import Role
from notifications.backends import InMemorySmsBackend
from notifications.models import Notification
from volunteers.models import Offer
from volunteers.paging.services import walk_in_log
from volunteers.paging.tokens import offer_id_from_token

from ..celery_worker import broker_queue, running_worker
from ..factories import ShiftFactory, VolunteerFactory, user_with_role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DELIVERY_TIMEOUT = 20
PHONE = "+19785550142"


@pytest.fixture
def broker():
    """This test's own queue on the broker from settings (tests/celery_worker.py)."""
    with broker_queue() as queue:
        yield queue


@pytest.fixture
def on_call_volunteer(department):
    user = user_with_role(Role.VOLUNTEER, department, username="night-owl")
    volunteer = VolunteerFactory(user=user, phone=PHONE)
    volunteer.departments.add(department)
    ShiftFactory(volunteer=volunteer, department=department)
    return volunteer


@pytest.fixture
def provider_calls(monkeypatch):
    """Calls to the SMS provider from any thread (the outbox itself would hide a duplicate)."""
    calls = []
    send = InMemorySmsBackend.send

    def counting_send(self, **kwargs):
        calls.append(kwargs)
        return send(self, **kwargs)

    monkeypatch.setattr(InMemorySmsBackend, "send", counting_send)
    return calls


def _wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    return condition()


def test_a_walk_in_pages_the_volunteer_through_a_real_worker(
    broker, department, officer, on_call_volunteer, sms_outbox, provider_calls, settings
):
    settings.HARBOR_SITE_URL = "https://harbor.example.org"
    assert settings.HARBOR_SMS_BACKEND == "notifications.backends.InMemorySmsBackend"

    with running_worker(broker):
        with transaction.atomic():
            intake = walk_in_log(
                department=department,
                officer=officer,
                person_data={"first_name": "Wren", "approximate_age": 30},
                intake_data={"warrant_check": "none"},
            )
        committed = time.monotonic()
        delivered = _wait_for(lambda: list(sms_outbox), DELIVERY_TIMEOUT)
        elapsed = time.monotonic() - committed
        settled = _wait_for(
            lambda: Notification.objects.filter(intake=intake, status=Notification.Status.SENT).exists(),
            DELIVERY_TIMEOUT,
        )

    assert delivered, f"no text message reached the outbox within {DELIVERY_TIMEOUT} s"
    assert settled
    print(f"\nwalk-in committed -> text handed to the SMS backend in {elapsed * 1000:.0f} ms")

    offer = Offer.objects.get(intake=intake)
    assert offer.volunteer == on_call_volunteer
    (sms,) = sms_outbox
    assert sms.to == PHONE
    token = re.search(r"https://harbor\.example\.org/volunteers/offers/([^/\s]+)/", sms.body).group(1)
    assert offer_id_from_token(token) == offer.pk
    assert "Wren" not in sms.body
    assert len(provider_calls) == 1
